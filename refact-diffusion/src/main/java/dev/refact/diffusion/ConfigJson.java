package dev.refact.diffusion;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.refact.clip.io.CheckpointFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Typed reads from a diffusers {@code config.json}; every error names the file and the key. */
final class ConfigJson {
    private final Path file;
    private final JsonObject json;

    private ConfigJson(Path file, JsonObject json) {
        this.file = file;
        this.json = json;
    }

    static ConfigJson read(Path file) throws IOException {
        String text;
        try {
            text = dev.refact.clip.io.TextFiles.readString(file, dev.refact.clip.io.TextFiles.MAX_JSON_BYTES);
        } catch (IOException e) {
            throw new CheckpointFormatException(file, Files.exists(file) ? e.getMessage().replace(file + ": ", "")
                    : "file not found");
        }
        try {
            JsonElement e = JsonParser.parseString(text);
            if (!e.isJsonObject()) {
                throw new CheckpointFormatException(file, "not a JSON object");
            }
            return new ConfigJson(file, e.getAsJsonObject());
        } catch (JsonParseException e) {
            throw new CheckpointFormatException(file, "invalid JSON: " + e.getMessage());
        }
    }

    Path file() {
        return file;
    }

    boolean has(String key) {
        return json.has(key) && !json.get(key).isJsonNull();
    }

    CheckpointFormatException error(String key, String problem) {
        return new CheckpointFormatException(file, key + " " + problem);
    }

    int getInt(String key, int dflt) throws CheckpointFormatException {
        if (!has(key)) {
            return dflt;
        }
        try {
            double d = json.get(key).getAsDouble();
            if (d != Math.rint(d)) {
                throw error(key, "= " + json.get(key) + " is not an integer");
            }
            return (int) d;
        } catch (UnsupportedOperationException | NumberFormatException | IllegalStateException e) {
            throw error(key, "= " + json.get(key) + " is not a number");
        }
    }

    /**
     * If {@code key} is present: a finite number (or, for a list, finite numbers) in [min, max], else an error
     * naming the file and the key. Checked before anything is built from the value.
     */
    void requireRange(String key, double min, double max, boolean integer) throws CheckpointFormatException {
        if (!has(key)) {
            return;
        }
        JsonElement e = json.get(key);
        java.util.List<JsonElement> values = new java.util.ArrayList<>();
        if (e.isJsonArray()) {
            e.getAsJsonArray().forEach(values::add);
            if (values.size() > 16) {
                throw error(key, "has " + values.size() + " entries; at most 16 are supported");
            }
        } else {
            values.add(e);
        }
        for (JsonElement v : values) {
            double d;
            try {
                if (v.isJsonPrimitive() && v.getAsJsonPrimitive().isBoolean()) {
                    continue; // a type error reported by the typed getter
                }
                d = v.getAsDouble();
            } catch (UnsupportedOperationException | NumberFormatException | IllegalStateException ex) {
                continue; // the typed getter reports it
            }
            String one = v.isJsonPrimitive() ? v.getAsString() : v.toString();
            String shown = e.isJsonArray() ? "= " + abbreviate(e.toString()) + ": " + one : "= " + one;
            if (!Double.isFinite(d)) {
                throw error(key, shown + " is not a finite number");
            }
            if (d < min || d > max || integer && d != Math.rint(d)) {
                throw error(key, shown + " is out of range: expected " + (integer ? "an integer " : "a number ")
                        + "in [" + fmt(min) + ", " + fmt(max) + "]");
            }
        }
    }

    private static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }

    private static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "…" : s;
    }

    int requireInt(String key) throws CheckpointFormatException {
        if (!has(key)) {
            throw error(key, "is missing");
        }
        return getInt(key, 0);
    }

    double getDouble(String key, double dflt) throws CheckpointFormatException {
        if (!has(key)) {
            return dflt;
        }
        try {
            return json.get(key).getAsDouble();
        } catch (UnsupportedOperationException | NumberFormatException | IllegalStateException e) {
            throw error(key, "= " + json.get(key) + " is not a number");
        }
    }

    boolean getBool(String key, boolean dflt) throws CheckpointFormatException {
        if (!has(key)) {
            return dflt;
        }
        JsonElement e = json.get(key);
        if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isBoolean()) {
            return e.getAsBoolean();
        }
        throw error(key, "= " + e + " is not true/false");
    }

    String getString(String key, String dflt) throws CheckpointFormatException {
        if (!has(key)) {
            return dflt;
        }
        JsonElement e = json.get(key);
        if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isString()) {
            return e.getAsString();
        }
        throw error(key, "= " + e + " is not a string");
    }

    List<String> getStrings(String key) throws CheckpointFormatException {
        JsonArray a = array(key);
        List<String> out = new ArrayList<>();
        for (JsonElement e : a) {
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
                throw error(key, "= " + a + " must be a list of strings");
            }
            out.add(e.getAsString());
        }
        return List.copyOf(out);
    }

    List<Integer> getInts(String key) throws CheckpointFormatException {
        JsonArray a = array(key);
        List<Integer> out = new ArrayList<>();
        for (JsonElement e : a) {
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
                throw error(key, "= " + a + " must be a list of integers");
            }
            out.add(e.getAsInt());
        }
        return List.copyOf(out);
    }

    /** An int, or a list of ints with one entry per block ({@code n} entries). */
    List<Integer> getIntOrList(String key, int n, Integer dflt) throws CheckpointFormatException {
        if (!has(key)) {
            if (dflt == null) {
                throw error(key, "is missing");
            }
            return repeat(dflt, n);
        }
        JsonElement e = json.get(key);
        if (e.isJsonArray()) {
            List<Integer> l = getInts(key);
            if (l.size() != n) {
                throw error(key, "= " + e + " has " + l.size() + " entries, expected " + n + " (one per block)");
            }
            return l;
        }
        return repeat(getInt(key, 0), n);
    }

    /** A bool, or a list of bools with one entry per block. */
    List<Boolean> getBoolOrList(String key, int n, boolean dflt) throws CheckpointFormatException {
        if (!has(key)) {
            return repeat(dflt, n);
        }
        JsonElement e = json.get(key);
        if (e.isJsonArray()) {
            List<Boolean> out = new ArrayList<>();
            for (JsonElement x : e.getAsJsonArray()) {
                if (!x.isJsonPrimitive() || !x.getAsJsonPrimitive().isBoolean()) {
                    throw error(key, "= " + e + " must be true/false or a list of them");
                }
                out.add(x.getAsBoolean());
            }
            if (out.size() != n) {
                throw error(key, "= " + e + " has " + out.size() + " entries, expected " + n);
            }
            return List.copyOf(out);
        }
        return repeat(getBool(key, dflt), n);
    }

    /**
     * Refuses a feature this port does not implement: the key must be absent, null, or equal to
     * the value SD 1.x uses.
     */
    void requireDefault(String key, Object expected) throws CheckpointFormatException {
        if (!has(key)) {
            return;
        }
        JsonElement e = json.get(key);
        boolean ok;
        if (expected == null) {
            ok = false;
        } else if (expected instanceof Boolean) {
            ok = e.isJsonPrimitive() && e.getAsJsonPrimitive().isBoolean() && e.getAsBoolean() == (Boolean) expected;
        } else if (expected instanceof Number) {
            ok = e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()
                    && e.getAsDouble() == ((Number) expected).doubleValue();
        } else {
            ok = e.isJsonPrimitive() && Objects.equals(e.getAsString(), expected.toString());
        }
        if (!ok) {
            throw error(key, "= " + e + " is not supported (this port implements "
                    + (expected == null ? "null" : expected) + ", the Stable Diffusion 1.x setting)");
        }
    }

    private JsonArray array(String key) throws CheckpointFormatException {
        if (!has(key)) {
            throw error(key, "is missing");
        }
        JsonElement e = json.get(key);
        if (!e.isJsonArray()) {
            throw error(key, "= " + e + " must be a list");
        }
        return e.getAsJsonArray();
    }

    private static <T> List<T> repeat(T v, int n) {
        List<T> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(v);
        }
        return List.copyOf(out);
    }
}
