package dev.refact.clip.vision;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;

/**
 * The settings of an HF {@code CLIPImageProcessor}, read from {@code preprocessor_config.json}.
 *
 * <p>Both forms are read: the current one ({@code "size": {"shortest_edge": 224}, "crop_size":
 * {"height": 224, "width": 224}}) and the old {@code CLIPFeatureExtractor} one of the openai/clip-*
 * repositories ({@code "size": 224, "crop_size": 224}, {@code feature_extractor_type}), with HF's
 * defaults for missing keys (resize shortest edge 224 with {@link Resample#BICUBIC}, center crop
 * 224×224, rescale 1/255, OpenAI CLIP mean/std, convert to RGB).
 *
 * @param doResize       {@code do_resize}
 * @param shortestEdge   {@code size.shortest_edge} (or an int {@code size}); 0 when a fixed
 *                       {@code size.height}/{@code size.width} is given instead
 * @param resizeHeight   {@code size.height}, 0 when resizing by the shortest edge
 * @param resizeWidth    {@code size.width}, 0 when resizing by the shortest edge
 * @param resample       {@code resample}
 * @param doCenterCrop   {@code do_center_crop}
 * @param cropHeight     {@code crop_size.height} (or an int {@code crop_size})
 * @param cropWidth      {@code crop_size.width}
 * @param doRescale      {@code do_rescale}
 * @param rescaleFactor  {@code rescale_factor} (1/255)
 * @param doNormalize    {@code do_normalize}
 * @param imageMean      {@code image_mean}, 3 values (R, G, B)
 * @param imageStd       {@code image_std}, 3 positive values
 * @param doConvertRgb   {@code do_convert_rgb} (images are always RGB here; kept for completeness)
 */
public record ImageProcessorConfig(boolean doResize, int shortestEdge, int resizeHeight, int resizeWidth,
        Resample resample, boolean doCenterCrop, int cropHeight, int cropWidth, boolean doRescale,
        double rescaleFactor, boolean doNormalize, double[] imageMean, double[] imageStd, boolean doConvertRgb) {

    /** OpenAI CLIP's per-channel mean (HF {@code OPENAI_CLIP_MEAN}). */
    private static final double[] OPENAI_CLIP_MEAN = {0.48145466, 0.4578275, 0.40821073};
    /** OpenAI CLIP's per-channel standard deviation (HF {@code OPENAI_CLIP_STD}). */
    private static final double[] OPENAI_CLIP_STD = {0.26862954, 0.26130258, 0.27577711};

    private static final Set<String> KNOWN_TYPES = Set.of("CLIPImageProcessor", "CLIPFeatureExtractor");

    /**
     * Validates the settings.
     *
     * @param doResize      whether to resize (then the size and {@code resample} are checked)
     * @param shortestEdge  target of the shorter side, &gt; 0; or 0 with a fixed height and width
     * @param resizeHeight  fixed target height, &gt; 0; or 0 with {@code shortestEdge}
     * @param resizeWidth   fixed target width, &gt; 0; or 0 with {@code shortestEdge}
     * @param resample      the resize filter; with {@code doResize}, not null and not {@link Resample#NEAREST}
     * @param doCenterCrop  whether to center-crop
     * @param cropHeight    crop height, &gt; 0 with {@code doCenterCrop}
     * @param cropWidth     crop width, &gt; 0 with {@code doCenterCrop}
     * @param doRescale     whether to multiply the 0..255 values by {@code rescaleFactor}
     * @param rescaleFactor finite and non-zero with {@code doRescale}
     * @param doNormalize   whether to apply {@code (x - mean) / std} per channel
     * @param imageMean     3 finite values (R, G, B), always checked; copied
     * @param imageStd      3 finite positive values (R, G, B), always checked; copied
     * @param doConvertRgb  {@code do_convert_rgb} (no effect here)
     * @throws IllegalArgumentException for non-positive sizes, an unsupported resample filter, or a
     *                                  mean/std that is not 3 finite values (std positive)
     */
    public ImageProcessorConfig {
        if (doResize) {
            boolean edge = shortestEdge > 0 && resizeHeight == 0 && resizeWidth == 0;
            boolean fixed = shortestEdge == 0 && resizeHeight > 0 && resizeWidth > 0;
            if (!edge && !fixed) {
                throw new IllegalArgumentException("size must be a positive shortest_edge or a positive height and "
                        + "width, got shortest_edge=" + shortestEdge + " height=" + resizeHeight + " width="
                        + resizeWidth);
            }
            if (resample == null || resample == Resample.NEAREST) {
                throw new IllegalArgumentException("resample " + resample + " is not supported (use 3 = BICUBIC)");
            }
        }
        if (doCenterCrop && (cropHeight < 1 || cropWidth < 1)) {
            throw new IllegalArgumentException("crop_size must be positive, got " + cropHeight + "x" + cropWidth);
        }
        if (doRescale && !(Double.isFinite(rescaleFactor) && rescaleFactor != 0.0)) {
            throw new IllegalArgumentException("rescale_factor must be finite and non-zero, got " + rescaleFactor);
        }
        imageMean = checkTriple(imageMean, "image_mean", false);
        imageStd = checkTriple(imageStd, "image_std", true);
    }

    private static double[] checkTriple(double[] v, String name, boolean positive) {
        if (v == null || v.length != 3) {
            throw new IllegalArgumentException(name + " must have 3 values (R, G, B), got "
                    + (v == null ? "none" : Arrays.toString(v)));
        }
        for (double d : v) {
            if (!Double.isFinite(d) || (positive && !(d > 0))) {
                throw new IllegalArgumentException(name + " has an invalid value: " + Arrays.toString(v));
            }
        }
        return v.clone();
    }

    /**
     * {@code image_mean} (a copy).
     *
     * @return a new array of the 3 per-channel means (R, G, B)
     */
    @Override
    public double[] imageMean() {
        return imageMean.clone();
    }

    /**
     * {@code image_std} (a copy).
     *
     * @return a new array of the 3 per-channel standard deviations (R, G, B)
     */
    @Override
    public double[] imageStd() {
        return imageStd.clone();
    }

    /**
     * HF's defaults: {@code CLIPImageProcessor()} with no arguments (224, bicubic, OpenAI mean/std).
     *
     * @return shortest edge 224 bicubic, center crop 224×224, rescale 1/255, OpenAI CLIP mean/std
     */
    public static ImageProcessorConfig clipDefaults() {
        return new ImageProcessorConfig(true, 224, 0, 0, Resample.BICUBIC, true, 224, 224, true, 1 / 255.0, true,
                OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, true);
    }

    /**
     * Reads {@code preprocessor_config.json}.
     *
     * @param path the JSON file, or a model directory containing {@code preprocessor_config.json}
     * @return the validated settings; missing keys take HF's defaults ({@link #clipDefaults()})
     * @throws IOException if the file is missing, is not JSON, has a field of the wrong type, or names
     *                     an image processor other than CLIP's; the message names the file and field
     */
    public static ImageProcessorConfig read(Path path) throws IOException {
        Path file = Files.isDirectory(path) ? path.resolve("preprocessor_config.json") : path;
        if (!Files.isRegularFile(file)) {
            throw new IOException("preprocessor config not found: " + file);
        }
        JsonObject o;
        try {
            JsonElement e = JsonParser.parseString(dev.refact.clip.io.TextFiles.readString(file, dev.refact.clip.io.TextFiles.MAX_JSON_BYTES));
            if (!e.isJsonObject()) {
                throw new IOException(file + ": expected a JSON object");
            }
            o = e.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new IOException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        try {
            return fromJson(o);
        } catch (IllegalArgumentException | IllegalStateException | UnsupportedOperationException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    static ImageProcessorConfig fromJson(JsonObject o) {
        for (String key : new String[] {"image_processor_type", "feature_extractor_type"}) {
            if (o.has(key) && !o.get(key).isJsonNull()) {
                String type = o.get(key).getAsString();
                if (!KNOWN_TYPES.contains(type)) {
                    throw new IllegalArgumentException(key + " is \"" + type
                            + "\"; only CLIPImageProcessor / CLIPFeatureExtractor preprocessing is implemented");
                }
            }
        }
        ImageProcessorConfig d = clipDefaults();
        boolean doResize = bool(o, "do_resize", true);
        int shortest = d.shortestEdge;
        int rh = 0;
        int rw = 0;
        if (o.has("size") && !o.get("size").isJsonNull()) {
            JsonElement s = o.get("size");
            if (s.isJsonPrimitive()) {
                shortest = integer(s, "size");
            } else if (s.isJsonObject()) {
                JsonObject so = s.getAsJsonObject();
                if (so.has("shortest_edge")) {
                    shortest = integer(so.get("shortest_edge"), "size.shortest_edge");
                    if (so.has("longest_edge")) {
                        throw new IllegalArgumentException("size.longest_edge is not supported");
                    }
                } else if (so.has("height") && so.has("width")) {
                    shortest = 0;
                    rh = integer(so.get("height"), "size.height");
                    rw = integer(so.get("width"), "size.width");
                } else {
                    throw new IllegalArgumentException("size must contain shortest_edge or height and width, got "
                            + so);
                }
            } else {
                throw new IllegalArgumentException("size must be an int or an object, got " + s);
            }
        }
        if (bool(o, "use_square_size", false) && shortest > 0) {
            rh = shortest;
            rw = shortest;
            shortest = 0;
        }
        int ch = d.cropHeight;
        int cw = d.cropWidth;
        if (o.has("crop_size") && !o.get("crop_size").isJsonNull()) {
            JsonElement c = o.get("crop_size");
            if (c.isJsonPrimitive()) {
                ch = integer(c, "crop_size");
                cw = ch;
            } else if (c.isJsonObject() && c.getAsJsonObject().has("height") && c.getAsJsonObject().has("width")) {
                ch = integer(c.getAsJsonObject().get("height"), "crop_size.height");
                cw = integer(c.getAsJsonObject().get("width"), "crop_size.width");
            } else {
                throw new IllegalArgumentException("crop_size must be an int or {height, width}, got " + c);
            }
        }
        Resample resample = Resample.BICUBIC;
        if (o.has("resample") && !o.get("resample").isJsonNull()) {
            resample = Resample.fromCode(integer(o.get("resample"), "resample"));
        }
        double rescale = o.has("rescale_factor") && !o.get("rescale_factor").isJsonNull()
                ? number(o.get("rescale_factor"), "rescale_factor") : d.rescaleFactor;
        return new ImageProcessorConfig(doResize, shortest, rh, rw, resample, bool(o, "do_center_crop", true), ch, cw,
                bool(o, "do_rescale", true), rescale, bool(o, "do_normalize", true),
                triple(o, "image_mean", OPENAI_CLIP_MEAN), triple(o, "image_std", OPENAI_CLIP_STD),
                bool(o, "do_convert_rgb", true));
    }

    private static boolean bool(JsonObject o, String key, boolean dflt) {
        if (!o.has(key) || o.get(key).isJsonNull()) {
            return dflt;
        }
        JsonElement e = o.get(key);
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) {
            throw new IllegalArgumentException(key + " must be true or false, got " + e);
        }
        return e.getAsBoolean();
    }

    private static int integer(JsonElement e, String name) {
        double v = number(e, name);
        if (v != Math.rint(v) || Math.abs(v) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name + " must be an integer, got " + e);
        }
        return (int) v;
    }

    private static double number(JsonElement e, String name) {
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw new IllegalArgumentException(name + " must be a number, got " + e);
        }
        return e.getAsDouble();
    }

    private static double[] triple(JsonObject o, String key, double[] dflt) {
        if (!o.has(key) || o.get(key).isJsonNull()) {
            return dflt.clone();
        }
        JsonElement e = o.get(key);
        if (e.isJsonPrimitive()) {
            double v = number(e, key);
            return new double[] {v, v, v};
        }
        if (!e.isJsonArray()) {
            throw new IllegalArgumentException(key + " must be a number or a list of 3 numbers, got " + e);
        }
        JsonArray a = e.getAsJsonArray();
        double[] v = new double[a.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = number(a.get(i), key + "[" + i + "]");
        }
        return v;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ImageProcessorConfig c && doResize == c.doResize && shortestEdge == c.shortestEdge
                && resizeHeight == c.resizeHeight && resizeWidth == c.resizeWidth && resample == c.resample
                && doCenterCrop == c.doCenterCrop && cropHeight == c.cropHeight && cropWidth == c.cropWidth
                && doRescale == c.doRescale && Double.compare(rescaleFactor, c.rescaleFactor) == 0
                && doNormalize == c.doNormalize && Arrays.equals(imageMean, c.imageMean)
                && Arrays.equals(imageStd, c.imageStd) && doConvertRgb == c.doConvertRgb;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(doResize, shortestEdge, resizeHeight, resizeWidth, resample, doCenterCrop,
                cropHeight, cropWidth, doRescale, rescaleFactor, doNormalize, Arrays.hashCode(imageMean),
                Arrays.hashCode(imageStd), doConvertRgb);
    }

    @Override
    public String toString() {
        String size = shortestEdge > 0 ? "shortest_edge=" + shortestEdge : resizeHeight + "x" + resizeWidth;
        return "ImageProcessorConfig[resize=" + (doResize ? size + " " + resample : "off") + ", crop="
                + (doCenterCrop ? cropHeight + "x" + cropWidth : "off") + ", rescale="
                + (doRescale ? rescaleFactor : "off") + ", normalize=" + (doNormalize
                ? "mean " + Arrays.toString(imageMean) + " std " + Arrays.toString(imageStd) : "off") + "]";
    }
}
