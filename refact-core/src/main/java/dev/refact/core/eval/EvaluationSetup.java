package dev.refact.core.eval;

import com.google.gson.JsonObject;
import dev.refact.core.Hyperparameters;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What an evaluation ran: the mode, scorer, dataset, rows, seeds, model and editor settings.
 *
 * @param mode               refact, baseline or oracle
 * @param space              {@code "text"} or {@code "image"} ({@link ProbeScorer#space()})
 * @param scorer             the scorer's {@link ProbeScorer#description()}
 * @param dataset            the dataset read
 * @param datasetSha256      SHA-256 of the dataset file's bytes
 * @param rows               the rows requested, in order
 * @param seeds              the seeds requested ({@code [0]} in text space)
 * @param modelFingerprint   {@code ClipTextModel.fingerprint()} of the model as given (clean)
 * @param modelSource        where the model was loaded from (informational; not compared on resume)
 * @param hyperparameters    the editor's settings ({@link EvalMode#REFACT} only, else {@code null})
 * @param statisticsId       the covariance statistics' id ({@link EvalMode#REFACT} only, else {@code null})
 * @param resultsFile        the results file, or {@code null} when results are kept in memory only
 */
public record EvaluationSetup(EvalMode mode, String space, Map<String, String> scorer, Dataset dataset,
                              String datasetSha256, List<EvalCase> rows, List<Integer> seeds,
                              String modelFingerprint, String modelSource, Hyperparameters hyperparameters,
                              String statisticsId, Path resultsFile) {
    /**
     * Copies the collections; rejects nulls where a value is required.
     *
     * @param mode             refact, baseline or oracle; not null
     * @param space            {@code "text"} or {@code "image"}; not null
     * @param scorer           the scorer's description; copied, iteration order kept
     * @param dataset          the dataset read, not null
     * @param datasetSha256    SHA-256 of the dataset file's bytes, not null
     * @param rows             the rows requested; copied
     * @param seeds            the seeds requested; copied
     * @param modelFingerprint the clean model's fingerprint, not null
     * @param modelSource      where the model was loaded from, not null
     * @param hyperparameters  the editor's settings, or {@code null} outside refact mode
     * @param statisticsId     the covariance statistics' id, or {@code null} outside refact mode
     * @param resultsFile      the results file, or {@code null}
     * @throws NullPointerException if a required value or a collection is null
     */
    public EvaluationSetup {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(space, "space");
        scorer = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(scorer));
        Objects.requireNonNull(dataset, "dataset");
        Objects.requireNonNull(datasetSha256, "datasetSha256");
        rows = List.copyOf(rows);
        seeds = List.copyOf(seeds);
        Objects.requireNonNull(modelFingerprint, "modelFingerprint");
        Objects.requireNonNull(modelSource, "modelSource");
    }

    /**
     * The dataset kind's name ("RoAD", "TIME").
     *
     * @return {@link DatasetKind#displayName()} of the dataset
     */
    public String datasetName() {
        return dataset.kind().displayName();
    }

    /**
     * The part of the setup that decides what a (row, seed) cell's result is; a results file records it in its
     * header and a resume must match it. Rows and seeds are not part of it (a cell does not depend on which
     * other cells are run), nor are file paths.
     */
    JsonObject configJson() {
        JsonObject c = new JsonObject();
        c.addProperty("mode", mode.key());
        c.addProperty("space", space);
        JsonObject s = new JsonObject();
        scorer.forEach(s::addProperty);
        c.add("scorer", s);
        JsonObject d = new JsonObject();
        d.addProperty("kind", dataset.kind().displayName());
        d.addProperty("file_name", dataset.file().getFileName().toString());
        d.addProperty("sha256", datasetSha256);
        c.add("dataset", d);
        c.addProperty("model_fingerprint", modelFingerprint);
        if (hyperparameters != null) {
            c.add("hyperparameters", com.google.gson.JsonParser.parseString(hyperparameters.toJson()));
        }
        if (statisticsId != null) {
            c.addProperty("statistics", statisticsId);
        }
        return c;
    }
}
