package dev.refact.clip;

import com.google.gson.JsonObject;
import dev.refact.clip.io.CheckpointFormatException;
import java.nio.file.Path;
import java.util.Locale;

/** Reading and checking the fields that the text and vision configs share. */
final class ConfigFields {
    private ConfigFields() {
    }

    /** An integer field of {@code o}, or {@code dflt} when absent or null. */
    static int intField(Path file, JsonObject o, String name, int dflt) throws CheckpointFormatException {
        if (!o.has(name) || o.get(name).isJsonNull()) {
            return dflt;
        }
        try {
            return o.get(name).getAsInt();
        } catch (RuntimeException e) {
            throw new CheckpointFormatException(file, "field '" + name + "' is not an integer: " + o.get(name));
        }
    }

    /**
     * {@code hidden_act} lower-cased; {@code quick_gelu} or {@code gelu}.
     *
     * @param tower "" or "vision ", for the message
     */
    static String activation(String hiddenAct, String tower) {
        String act = hiddenAct.toLowerCase(Locale.ROOT);
        if (!act.equals("quick_gelu") && !act.equals("gelu")) {
            throw new IllegalArgumentException("unsupported " + tower + "hidden_act '" + act + "': quick_gelu or gelu");
        }
        return act;
    }

    /** Checks {@code layer_norm_eps} ∈ (0, 1]. */
    static void layerNormEps(double eps) {
        if (!(eps > 0) || eps > 1) {
            throw new IllegalArgumentException("layer_norm_eps must be in (0, 1], got " + eps);
        }
    }
}
