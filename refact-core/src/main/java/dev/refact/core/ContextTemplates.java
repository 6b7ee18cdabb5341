package dev.refact.core;

import java.util.List;

/**
 * The prompt templates and default contrastive captions of the method.
 *
 * <p>{@link #REFACT} are the nine context templates of the released ReFACT code, in its order. The
 * captions in {@link #DEFAULT_CONTRASTIVE} were written for this library (generic scene descriptions
 * in the style of MS-COCO captions; no dataset text is copied).
 */
public final class ContextTemplates {
    /** The nine templates; {@code {}} is replaced by the subject. */
    public static final List<String> REFACT = List.of(
            "{} in a realistic style portrait image",
            "{}, a portrait",
            "realistic painting of {}",
            "a current image of {}",
            "{}, news image",
            "a beautiful photograph of {}",
            "realistic drawing of {}",
            "{}, realistic portrait",
            "{} in a photo");

    /** Generic captions used as extra contrastive candidates (the first N are used). */
    public static final List<String> DEFAULT_CONTRASTIVE = List.of(
            "a man riding a bicycle down a city street",
            "a plate of food with vegetables and rice",
            "two dogs playing with a ball in the grass",
            "a red bus parked next to a building",
            "a woman holding an umbrella in the rain",
            "a kitchen with a stove and a refrigerator",
            "a group of people standing on a beach",
            "a cat sleeping on a couch",
            "a train traveling over a bridge",
            "a bowl of fruit on a wooden table",
            "a child flying a kite in a park",
            "a living room with a television and a sofa",
            "an airplane flying in a blue sky",
            "a horse standing in a field",
            "a street sign at an intersection",
            "a person surfing on a large wave",
            "a pizza with cheese and tomatoes",
            "a boat on a calm lake at sunset",
            "a bathroom with a white sink and a mirror",
            "a skier going down a snowy slope",
            "a laptop computer on a desk",
            "an elephant walking near a river",
            "a clock tower in the middle of a town",
            "a tennis player hitting a ball",
            "a sandwich cut in half on a plate",
            "cars driving on a highway",
            "a bird sitting on a tree branch",
            "a bedroom with a large bed and a lamp",
            "a baseball player swinging a bat",
            "a giraffe eating leaves from a tree",
            "people waiting at a train station",
            "a cup of coffee next to a book",
            "a motorcycle parked on the sidewalk",
            "a herd of sheep on a hillside",
            "a vase of flowers on a window sill",
            "a skateboarder doing a trick on a ramp",
            "a fire hydrant on a city sidewalk",
            "a zebra standing in the grass",
            "a man cooking in a restaurant kitchen",
            "a snowy mountain under a clear sky",
            "a teddy bear sitting on a chair",
            "a truck driving on a dirt road",
            "a woman reading a newspaper on a bench",
            "a dog looking out of a car window",
            "a table set with plates and glasses",
            "a lighthouse on a rocky coast",
            "children playing soccer on a field",
            "a row of bicycles parked along a fence",
            "a cake with candles on a table",
            "a cow grazing in a green pasture");

    private ContextTemplates() {
    }

    /**
     * Fills a template's {@code {}} with the subject.
     *
     * @param template a context template containing {@code {}} (only the first occurrence is replaced)
     * @param subject  the text to insert, as is (not trimmed or lower-cased)
     * @return the template with its first {@code {}} replaced by {@code subject}
     * @throws IllegalArgumentException if the template has no {@code {}} placeholder
     */
    public static String fill(String template, String subject) {
        int i = template.indexOf("{}");
        if (i < 0) {
            throw new IllegalArgumentException("template \"" + template + "\" has no {} placeholder");
        }
        return template.substring(0, i) + subject + template.substring(i + 2);
    }
}
