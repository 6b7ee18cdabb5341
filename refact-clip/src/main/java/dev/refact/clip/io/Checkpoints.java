package dev.refact.clip.io;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Finds the weight files of a Hugging Face / diffusers model folder and refuses pickle checkpoints.
 *
 * <p>Only safetensors are read. Pickle-based files ({@code pytorch_model.bin}, {@code *.bin},
 * {@code *.ckpt}, {@code *.pt}, {@code *.pth}, {@code *.pkl}) can execute arbitrary code when
 * loaded; they are never opened, and a folder holding only such files is rejected with a message
 * that says how to convert it.
 */
public final class Checkpoints {
    /** Weight file base names of transformers ({@code model}) and diffusers ({@code diffusion_pytorch_model}). */
    public static final List<String> STANDARD_BASE_NAMES = List.of("model", "diffusion_pytorch_model");

    static final String CONVERT_HINT = "Convert it once in Python: "
            + "`import torch; from safetensors.torch import save_file; "
            + "save_file(torch.load(p, weights_only=True), 'model.safetensors')` "
            + "(for a .ckpt take torch.load(...)['state_dict']), or load it with transformers/diffusers and call "
            + "`save_pretrained(out_dir, safe_serialization=True)`.";

    private static final List<String> PICKLE_SUFFIXES = List.of(".bin", ".ckpt", ".pt", ".pth", ".pkl", ".pickle");
    private static final String INDEX_SUFFIX = ".safetensors.index.json";

    private Checkpoints() {
    }

    /**
     * The weights named {@code baseName} in {@code dir}: {@code <baseName>.safetensors}, or else the
     * sharded index {@code <baseName>.safetensors.index.json} (open either with
     * {@link SafetensorsCheckpoint#open}).
     *
     * @param dir      the model folder (or a component folder such as {@code text_encoder/})
     * @param baseName the weight file name without extension, usually one of {@link #STANDARD_BASE_NAMES}
     * @return the path of the single file, or else of the shard index, inside {@code dir}
     * @throws CheckpointFormatException if only pickle weights exist (with conversion instructions)
     *                                   or no weights exist (listing what is there)
     * @throws IOException               if {@code dir} does not exist, is not a folder or cannot be listed
     */
    public static Path findWeights(Path dir, String baseName) throws IOException {
        checkDirectory(dir);
        Path single = dir.resolve(baseName + ".safetensors");
        if (Files.isRegularFile(single)) {
            return single;
        }
        Path index = dir.resolve(baseName + INDEX_SUFFIX);
        if (Files.isRegularFile(index)) {
            return index;
        }
        refusePickle(dir);
        throw new CheckpointFormatException(dir, "no " + baseName + ".safetensors or " + baseName + INDEX_SUFFIX
                + " here (found: " + listing(dir) + ")");
    }

    /**
     * The safetensors files that make up the model in {@code dir}, in a stable order: the shards
     * named by the one {@code *.safetensors.index.json} if present; otherwise the single
     * {@code *.safetensors} file (when several exist, {@code model.safetensors} or
     * {@code diffusion_pytorch_model.safetensors}, or all of them if they are numbered shards
     * {@code name-00001-of-00002.safetensors}).
     *
     * @param dir the model folder (or a component folder such as {@code text_encoder/})
     * @return the safetensors files to read together, never empty (do not modify the list)
     * @throws CheckpointFormatException if the choice is ambiguous, a shard is missing, the index is
     *                                   malformed, or only pickle weights exist
     * @throws IOException               if {@code dir} does not exist, is not a folder, or a file cannot be read
     */
    public static List<Path> weightFiles(Path dir) throws IOException {
        checkDirectory(dir);
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(Files::isRegularFile).sorted().collect(Collectors.toList());
        }
        List<Path> indexes = files.stream().filter(p -> name(p).endsWith(INDEX_SUFFIX)).collect(Collectors.toList());
        if (indexes.size() == 1) {
            return shardsOf(indexes.get(0));
        }
        if (indexes.size() > 1) {
            for (String base : STANDARD_BASE_NAMES) {
                Path standard = dir.resolve(base + INDEX_SUFFIX);
                if (indexes.contains(standard)) {
                    return shardsOf(standard);
                }
            }
            throw new CheckpointFormatException(dir, "several shard indexes, cannot choose: " + names(indexes));
        }
        List<Path> st = files.stream().filter(p -> name(p).endsWith(".safetensors")).collect(Collectors.toList());
        if (st.size() == 1) {
            return st;
        }
        if (st.size() > 1) {
            for (String base : STANDARD_BASE_NAMES) {
                Path standard = dir.resolve(base + ".safetensors");
                if (st.contains(standard)) {
                    return List.of(standard);
                }
            }
            if (st.stream().allMatch(p -> name(p).matches(".*-\\d{5}-of-\\d{5}\\.safetensors"))) {
                return st;
            }
            throw new CheckpointFormatException(dir, "several safetensors files, cannot choose (pass one file): "
                    + names(st));
        }
        refusePickle(dir);
        throw new CheckpointFormatException(dir, "no *.safetensors weights here (found: " + listing(dir) + ")");
    }

    /**
     * Throws if {@code path} is a pickle checkpoint, or a folder whose only weights are pickle
     * checkpoints; returns normally otherwise (including for folders with safetensors).
     *
     * @param path a weight file or a model folder; a path that is neither is accepted silently
     * @throws CheckpointFormatException explaining that pickle can execute code and how to convert
     * @throws IOException               if the folder cannot be listed
     */
    public static void refusePickle(Path path) throws IOException {
        if (Files.isRegularFile(path)) {
            if (isPickle(path)) {
                throw new CheckpointFormatException(path, "is a pickle checkpoint; pickle files can execute arbitrary "
                        + "code when loaded, so refact-java does not read them. " + CONVERT_HINT);
            }
            return;
        }
        if (!Files.isDirectory(path)) {
            return;
        }
        List<Path> pickles;
        boolean hasSafetensors;
        try (Stream<Path> s = Files.list(path)) {
            List<Path> files = s.filter(Files::isRegularFile).sorted().collect(Collectors.toList());
            pickles = files.stream().filter(Checkpoints::isPickle).collect(Collectors.toList());
            hasSafetensors = files.stream().anyMatch(p -> name(p).endsWith(".safetensors")
                    || name(p).endsWith(INDEX_SUFFIX));
        }
        if (!hasSafetensors && !pickles.isEmpty()) {
            throw new CheckpointFormatException(path, "has only pickle checkpoints (" + names(pickles)
                    + "); pickle files can execute arbitrary code when loaded, so refact-java does not read them. "
                    + CONVERT_HINT);
        }
    }

    /**
     * Whether the file name has a pickle checkpoint extension (.bin .ckpt .pt .pth .pkl .pickle).
     *
     * @param file a file path; only its name is looked at (case-insensitively), the file is not opened
     * @return true if the name ends with a pickle extension
     */
    public static boolean isPickle(Path file) {
        String n = name(file).toLowerCase(Locale.ROOT);
        return PICKLE_SUFFIXES.stream().anyMatch(n::endsWith);
    }

    /**
     * The shard files named by a {@code *.safetensors.index.json} ({@code weight_map} values,
     * distinct, sorted), each checked to exist beside the index.
     */
    static List<Path> shardsOf(Path index) throws IOException {
        return List.copyOf(new TreeSet<>(readWeightMap(index).values()));
    }

    /** The index's {@code weight_map}: tensor name → shard path (validated plain file names beside the index). */
    static Map<String, Path> readWeightMap(Path index) throws IOException {
        JsonElement root;
        try {
            root = JsonParser.parseString(dev.refact.clip.io.TextFiles.readString(index, dev.refact.clip.io.TextFiles.MAX_JSON_BYTES));
        } catch (JsonParseException | java.nio.charset.MalformedInputException e) {
            throw new CheckpointFormatException(index, "not valid UTF-8 JSON: " + e.getMessage());
        }
        if (!root.isJsonObject() || !root.getAsJsonObject().has("weight_map")
                || !root.getAsJsonObject().get("weight_map").isJsonObject()) {
            throw new CheckpointFormatException(index, "shard index lacks a 'weight_map' object");
        }
        JsonObject map = root.getAsJsonObject().getAsJsonObject("weight_map");
        Path dir = index.toAbsolutePath().getParent();
        Map<String, Path> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : map.entrySet()) {
            JsonElement v = e.getValue();
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
                throw new CheckpointFormatException(index, e.getKey(), "weight_map value must be a file name");
            }
            String file = v.getAsString();
            if (file.isEmpty() || file.contains("/") || file.contains("\\") || file.equals("..") || file.equals(".")) {
                throw new CheckpointFormatException(index, e.getKey(), "shard '" + file
                        + "' must be a plain file name beside the index");
            }
            Path shard = dir.resolve(file);
            if (!Files.isRegularFile(shard)) {
                throw new CheckpointFormatException(index, e.getKey(), "shard file '" + file + "' is missing");
            }
            if (isPickle(shard)) {
                refusePickle(shard);
            }
            out.put(e.getKey(), shard);
        }
        if (out.isEmpty()) {
            throw new CheckpointFormatException(index, "shard index has an empty 'weight_map'");
        }
        return out;
    }

    private static void checkDirectory(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            throw new NoSuchFileException(dir.toString());
        }
        if (!Files.isDirectory(dir)) {
            throw new NotDirectoryException(dir.toString());
        }
    }

    private static String name(Path p) {
        return p.getFileName().toString();
    }

    private static String names(List<Path> paths) {
        return paths.stream().map(Checkpoints::name).collect(Collectors.joining(", "));
    }

    private static String listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            List<String> all = s.map(Checkpoints::name).sorted().collect(Collectors.toCollection(ArrayList::new));
            if (all.isEmpty()) {
                return "nothing";
            }
            return all.size() > 10 ? String.join(", ", all.subList(0, 10)) + ", …" : String.join(", ", all);
        }
    }
}
