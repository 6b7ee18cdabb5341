package dev.refact.core.eval;

import com.google.gson.JsonObject;
import dev.refact.clip.ClipTextModel;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.core.EditProvenance;
import dev.refact.core.EditRequest;
import dev.refact.core.EditResult;
import dev.refact.core.EditConflictException;
import dev.refact.core.Editor;
import dev.refact.core.JointEditResult;
import dev.refact.core.JointOptions;
import dev.refact.core.ProtectedKey;
import dev.refact.core.RequestOutcome;
import dev.refact.core.Hyperparameters;
import dev.refact.core.stats.CovarianceStats;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.IntStream;

/**
 * Runs the paper's evaluation over dataset rows: for each row (and seed) edit a CLEAN model, score the row's
 * probes, undo; append one line per (row, seed) to a results file at once, so an interrupted run resumes where
 * it stopped.
 *
 * <pre>{@code
 * Dataset road = Datasets.read(Path.of("RoAD_validation.csv"));
 * EvaluationRunner runner = EvaluationRunner.builder()
 *         .mode(EvalMode.REFACT)
 *         .scorer(ProbeScorer.textSpace(tokenizer, true))      // or an image scorer, with seeds 0..24
 *         .editor(tokenizer, stats, Hyperparameters.roleEdits())
 *         .results(Path.of("out/results.jsonl"))
 *         .build();
 * EvaluationResult result = runner.run(model, road, road.cases());
 * EvaluationReport.write(result, Path.of("out"));                // report.md, metrics.csv, metrics.png
 * }</pre>
 *
 * <p>Modes ({@link EvalMode}): {@code refact} edits with the row's request; {@code baseline} scores the
 * unedited model; {@code oracle} scores the unedited model on the explicit oracle prompts and skips (and
 * reports) rows that have none. The edit is deterministic, so a row is edited once and that edit serves all
 * its pending seeds (identical to a fresh edit of a clean model per seed); {@link EditResult#undo()} then
 * restores the clean weights bit for bit. A row the editor refuses is recorded as a failed cell (its message
 * kept) and not retried on resume.
 *
 * <p>Resume: the results file's first line records the configuration ({@link EvaluationSetup}: mode, scorer,
 * dataset hash, model fingerprint, hyperparameters, statistics id). A run on an existing file skips the
 * (row, seed) cells already in it and refuses to start when the configuration differs. An incomplete last line
 * (a write interrupted by a kill) is dropped and recomputed.
 *
 * <p>Text space ({@link ProbeScorer#seeded()} false): one seed (0); in refact mode each line also carries the
 * clean model's scores ({@link CellResult#before()}), the "before" column of the report.
 *
 * <p>Not thread-safe; the model must not be used elsewhere during a run. On return or exception the model has
 * the weights it was given.
 */
public final class EvaluationRunner {
    private final EvalMode mode;
    private final ProbeScorer scorer;
    private final ClipTokenizer tokenizer;
    private final CovarianceStats statistics;
    private final Hyperparameters hyperparameters;
    private final List<Integer> seeds;
    private final Path results;
    private final EvaluationListener listener;
    private final CellExecutor executor;
    private final boolean allowStatisticsOfOtherModels;

    private EvaluationRunner(Builder b) {
        this.mode = b.mode;
        this.scorer = b.scorer;
        this.tokenizer = b.tokenizer;
        this.statistics = b.statistics;
        this.hyperparameters = b.hyperparameters;
        this.seeds = b.seeds;
        this.results = b.results;
        this.listener = b.listener;
        this.executor = b.executor;
        this.allowStatisticsOfOtherModels = b.allowStatisticsOfOtherModels;
    }

    /**
     * A builder; a scorer is required, and editor settings in refact mode.
     *
     * @return a new builder (mode {@link EvalMode#REFACT}, no results file, {@link EvaluationListener#NONE})
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The mode.
     *
     * @return what the runner does to the model before scoring a row
     */
    public EvalMode mode() {
        return mode;
    }

    /**
     * The seeds each row is scored with.
     *
     * @return the seeds, an unmodifiable list ({@code [0]} for an unseeded scorer)
     */
    public List<Integer> seeds() {
        return seeds;
    }

    /**
     * Evaluates every row of the dataset.
     *
     * @param model   the text encoder to evaluate, clean; it has the same weights again on return
     * @param dataset the dataset; all its {@link Dataset#cases()} are run, in file order
     * @return every requested cell (computed now or read back) and the skipped rows
     * @throws IllegalArgumentException if the results file belongs to another configuration, or the editor
     *                                  settings do not fit the model
     * @throws IOException              if the dataset or results file cannot be read, or the results file written
     * @see #run(ClipTextModel, Dataset, List)
     */
    public EvaluationResult run(ClipTextModel model, Dataset dataset) throws IOException {
        return run(model, dataset, dataset.cases());
    }

    /**
     * Evaluates the given rows.
     *
     * @param model   the text encoder to evaluate, clean (for refact mode it is edited and restored per row)
     * @param dataset the dataset the rows come from (its file is hashed for the configuration)
     * @param rows    rows of {@code dataset}, in the order to run them
     * @return every requested cell (computed now or read back) and the skipped rows
     * @throws IllegalArgumentException if a row is not from the dataset, the results file belongs to another
     *                                  configuration, or the editor settings do not fit the model
     * @throws IOException              if the results file cannot be read or written
     */
    public EvaluationResult run(ClipTextModel model, Dataset dataset, List<EvalCase> rows) throws IOException {
        EvaluationSetup setup = setup(model, dataset, rows);
        Editor editor = mode == EvalMode.REFACT ? editor(model) : null;
        List<SkippedRow> skipped = skipped(rows);
        Set<Integer> skippedRows = new HashSet<>();
        skipped.forEach(s -> skippedRows.add(s.row()));
        skipped.forEach(listener::skipped);
        long start = System.nanoTime();
        Map<Long, CellResult> cells = new TreeMap<>();
        int resumed = 0;
        try (ResultsFile file = results == null ? null
                : ResultsFile.open(results, setup.configJson(), info(model, dataset), listener::warning)) {
            Map<Long, CellResult> existing = file == null ? Map.of() : file.existing();
            int total = 0;
            for (EvalCase c : rows) {
                if (skippedRows.contains(c.row())) {
                    continue;
                }
                for (int seed : seeds) {
                    total++;
                    CellResult had = existing.get(ResultsFile.key(c.row(), seed));
                    if (had != null) {
                        cells.put(ResultsFile.key(c.row(), seed), had);
                        resumed++;
                    }
                }
            }
            listener.started(progress(resumed, total, resumed, 0, start));
            int resumedFinal = resumed;
            int totalFinal = total;
            RowCellSink done = (c, cell) -> {
                if (file != null) {
                    file.append(cell);
                }
                cells.put(ResultsFile.key(c.row(), cell.seed()), cell);
                int n = cells.size() - resumedFinal;
                listener.cellDone(c, cell, progress(resumedFinal + n, totalFinal, resumedFinal, n, start));
            };
            if (executor != null) {
                executeElsewhere(rows, skippedRows, cells, done);
            } else {
                for (EvalCase c : rows) {
                    if (skippedRows.contains(c.row())) {
                        continue;
                    }
                    List<Integer> pending = seeds.stream()
                            .filter(s -> !cells.containsKey(ResultsFile.key(c.row(), s))).toList();
                    if (pending.isEmpty()) {
                        continue;
                    }
                    evaluateRow(model, editor, c, pending, cell -> done.accept(c, cell));
                }
            }
        }
        return new EvaluationResult(setup, new ArrayList<>(cells.values()), skipped, cells.size() - resumed, resumed);
    }

    /** Receives each cell of a row as soon as it is scored. */
    private interface CellSink {
        void accept(CellResult cell) throws IOException;
    }

    /** Records a finished cell of a row (results file, result map, progress). */
    private interface RowCellSink {
        void accept(EvalCase row, CellResult cell) throws IOException;
    }

    /** Hands the pending cells to the {@link CellExecutor} and records what it returns. */
    private void executeElsewhere(List<EvalCase> rows, Set<Integer> skippedRows, Map<Long, CellResult> cells,
                                  RowCellSink done) throws IOException {
        Map<Integer, EvalCase> byRow = new TreeMap<>();
        List<CellSpec> pending = new ArrayList<>();
        String hp = mode == EvalMode.REFACT ? hyperparameters.toJson() : null;
        for (EvalCase c : rows) {
            if (skippedRows.contains(c.row())) {
                continue;
            }
            byRow.put(c.row(), c);
            for (int seed : seeds) {
                if (!cells.containsKey(ResultsFile.key(c.row(), seed))) {
                    pending.add(new CellSpec(mode, hp, c.row(), seed));
                }
            }
        }
        if (pending.isEmpty()) {
            return;
        }
        Set<Long> open = new HashSet<>();
        pending.forEach(p -> open.add(ResultsFile.key(p.row(), p.seed())));
        executor.execute(pending, (spec, cell) -> {
            if (cell.row() != spec.row() || cell.seed() != spec.seed()) {
                throw new IllegalStateException("cell executor returned row " + cell.row() + ", seed " + cell.seed()
                        + " for row " + spec.row() + ", seed " + spec.seed());
            }
            if (open.remove(ResultsFile.key(spec.row(), spec.seed()))) {
                done.accept(byRow.get(spec.row()), cell);
            }
        });
        if (!open.isEmpty()) {
            throw new IllegalStateException("cell executor finished with " + open.size() + " of " + pending.size()
                    + " cells missing");
        }
    }

    /**
     * Computes one cell (row × seed) on its own, as a run would: edits the clean model in refact mode, scores
     * the row's probes for this seed, undoes the edit. A row the editor refuses gives a failed cell. This is
     * what a {@link CellExecutor} computes for a {@link CellSpec}; the runner's own loop edits a row once for all
     * its seeds, which gives the same scores (the edit is deterministic).
     *
     * @param model the text encoder, clean; it has the same weights again when this returns or throws
     * @param row   a dataset row
     * @param seed  the seed (0 for an unseeded scorer)
     * @return the cell's result
     * @throws IllegalArgumentException if an unseeded scorer is given a seed other than 0, or the editor settings
     *                                  do not fit the model
     * @throws IOException              if the scorer fails to write (e.g. saved images)
     */
    public CellResult evaluateCell(ClipTextModel model, EvalCase row, int seed) throws IOException {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(row, "row");
        if (!scorer.seeded() && seed != 0) {
            throw new IllegalArgumentException("text-space scoring has only seed 0, got " + seed);
        }
        Editor editor = mode == EvalMode.REFACT ? editor(model) : null;
        CellResult[] out = new CellResult[1];
        evaluateRow(model, editor, row, List.of(seed), cell -> out[0] = cell);
        return out[0];
    }

    /**
     * Scores one row for the pending seeds, handing each cell to {@code sink} before the next seed is scored.
     * The model is back to its clean weights when this returns or throws.
     */
    private void evaluateRow(ClipTextModel model, Editor editor, EvalCase c, List<Integer> pending, CellSink sink)
            throws IOException {
        long t0 = System.nanoTime();
        List<TwoWayProbe> probes = probes(c);
        List<ProbeKind> kinds = probes.stream().map(TwoWayProbe::kind).toList();
        ProbeScorer.RowScorer rs = scorer.prepare(model, c, probes);
        double[] before = null;
        EditResult edit = null;
        EditSummary summary = null;
        String error = null;
        try {
            if (mode == EvalMode.REFACT) {
                if (!scorer.seeded()) {
                    before = rs.pNew(model, pending.get(0));
                }
                long e0 = System.nanoTime();
                try {
                    edit = editor.edit(model, c.toRequest());
                    summary = EditSummary.of(edit.steps(), edit.stopReason(),
                            edit.targetProbability(), edit.deltaNorm(), (System.nanoTime() - e0) / 1e6);
                } catch (IllegalArgumentException | IllegalStateException e) {
                    error = "edit failed: " + e.getMessage();
                }
            }
            double setupMillis = (System.nanoTime() - t0) / 1e6;
            for (int seed : pending) {
                long s0 = System.nanoTime();
                if (error != null) {
                    sink.accept(new CellResult(c.row(), seed, List.of(), List.of(), null, error, setupMillis));
                    continue;
                }
                List<ProbeScore> scores = ResultsFile.toScores(c.row(), seed, kinds, rs.pNew(model, seed));
                List<ProbeScore> b = before == null ? List.of() : ResultsFile.toScores(c.row(), seed, kinds, before);
                double ms = (System.nanoTime() - s0) / 1e6 + (seed == pending.get(0) ? setupMillis : 0);
                sink.accept(new CellResult(c.row(), seed, scores, b, summary, null, ms));
            }
        } finally {
            if (edit != null) {
                edit.undo();
            }
        }
    }

    /**
     * Sequential edits: the rows are edited one after another on one model (no undo in between), and every
     * {@code every} rows (and after the last) all rows edited so far are scored. Reference embeddings of every
     * row are taken from the clean model first. The paper: 90 mixed RoAD/TIME edits, scored every 10. All edits
     * are undone (newest first) before returning, so the model ends clean. Rows the editor refuses are reported
     * in {@link SequentialResult#failed()} and not scored. Requires {@link EvalMode#REFACT}; no results file is
     * written (the curve is the result; see {@code dev.refact.report.EvaluationReport.writeSequential} in refact-report).
     *
     * @param model   the text encoder, clean; it has the same weights again on return
     * @param dataset the dataset the rows come from
     * @param rows    rows of {@code dataset}, in edit order
     * @param every   rows per curve point, at least 1
     * @return the curve, one point per {@code every} rows (and one after the last row)
     * @throws IllegalArgumentException if the mode is not refact or {@code every < 1}, a row is not from the
     *                                  dataset, or the editor settings do not fit the model
     * @throws IOException              if the dataset file cannot be read (it is hashed) or the scorer fails
     */
    public SequentialResult runSequential(ClipTextModel model, Dataset dataset, List<EvalCase> rows, int every)
            throws IOException {
        return runSequential(model, dataset, rows, every, false);
    }

    /**
     * As {@link #runSequential(ClipTextModel, Dataset, List, int)}; with {@code protect} each edit is a one-request
     * joint edit that also keeps the bare-subject outputs of every earlier edit of the run at their current values
     * ({@link Editor#editJointly(ClipTextModel, List, JointOptions)} with protected keys): the protected curve.
     *
     * @param model   the text encoder, clean; it has the same weights again on return
     * @param dataset the dataset the rows come from
     * @param rows    rows of {@code dataset}, in edit order
     * @param every   rows per curve point, at least 1
     * @param protect true to protect the earlier edits' keys (each edit then a one-request joint edit), false
     *                for plain sequential edits
     * @return the curve, one point per {@code every} rows (and one after the last row)
     * @throws IllegalArgumentException if the mode is not refact or {@code every < 1}, a row is not from the
     *                                  dataset, or the editor settings do not fit the model
     * @throws IOException              if the dataset file cannot be read (it is hashed) or the scorer fails
     */
    public SequentialResult runSequential(ClipTextModel model, Dataset dataset, List<EvalCase> rows, int every,
                                          boolean protect) throws IOException {
        if (mode != EvalMode.REFACT) {
            throw new IllegalArgumentException("sequential mode edits; it needs mode refact, not " + mode.key());
        }
        if (every < 1) {
            throw new IllegalArgumentException("sequential evaluation interval must be >= 1, got " + every);
        }
        EvaluationSetup setup = setup(model, dataset, rows);
        Editor editor = editor(model);
        long start = System.nanoTime();
        RowScorers scorers = new RowScorers(model, rows);
        List<Runnable> applied = new ArrayList<>();
        List<ProtectedKey> earlier = new ArrayList<>();
        List<Integer> edited = new ArrayList<>();
        List<EditSummary> summaries = new ArrayList<>();
        List<SkippedRow> failed = new ArrayList<>();
        List<SequentialPoint> points = new ArrayList<>();
        int totalPoints = (rows.size() + every - 1) / every;
        listener.started(progress(0, totalPoints, 0, 0, start));
        try {
            for (int i = 0; i < rows.size(); i++) {
                EvalCase c = rows.get(i);
                long e0 = System.nanoTime();
                try {
                    if (protect) {
                        JointEditResult j = editor.editJointly(model, List.of(c.toRequest()),
                                JointOptions.defaults().protecting(earlier));
                        applied.add(j::undo);
                        earlier.addAll(j.protectedKeys());
                        RequestOutcome x = j.outcomes().get(0);
                        summaries.add(EditSummary.of(x.steps(), x.stopReason(),
                                x.targetProbability(), x.deltaNorm(), (System.nanoTime() - e0) / 1e6));
                    } else {
                        EditResult e = editor.edit(model, c.toRequest());
                        applied.add(e::undo);
                        summaries.add(EditSummary.of(e.steps(), e.stopReason(),
                                e.targetProbability(), e.deltaNorm(), (System.nanoTime() - e0) / 1e6));
                    }
                    edited.add(i);
                } catch (IllegalArgumentException | IllegalStateException ex) {
                    failed.add(new SkippedRow(c.row(), c.label(), "edit failed: " + ex.getMessage()));
                }
                if ((i + 1) % every == 0 || i == rows.size() - 1) {
                    List<ProbeScore> all = scorers.scores(model, edited);
                    SequentialPoint p = new SequentialPoint(i + 1, edited.size(), Metrics.aggregate(all),
                            Duration.ofNanos(System.nanoTime() - start));
                    points.add(p);
                    listener.sequentialPoint(p, progress(points.size(), totalPoints, 0, points.size(), start));
                }
            }
        } finally {
            for (int k = applied.size() - 1; k >= 0; k--) {
                applied.get(k).run();
            }
        }
        return new SequentialResult(setup, every, points, summaries, failed, List.of());
    }

    /**
     * The requests a refused joint edit leaves out before it is tried again: every involved request but the first
     * (the first stays in), or the only one when a single request makes the system singular by itself. Never
     * empty, so the retry loop always shrinks.
     *
     * @param involved the conflict's request indices ({@link EditConflictException#requests()}), any order; indices
     *                 of protected keys (&ge; {@code n}) are ignored
     * @param n        the number of requests in the refused edit
     * @return indices in [0, n) to leave out, ascending, at least one
     */
    static List<Integer> leftOut(List<Integer> involved, int n) {
        List<Integer> own = involved.stream().filter(i -> i >= 0 && i < n).distinct().sorted().toList();
        if (own.isEmpty()) {
            // only protected keys conflict among themselves: no request can be kept with them
            return IntStream.range(0, n).boxed().toList();
        }
        return own.size() == 1 ? own : own.subList(1, own.size());
    }

    /**
     * One joint edit of all rows ({@link Editor#editJointly}), then every edited row is scored: a one-point
     * {@link SequentialResult} ({@code every} = number of rows). Rows that conflict with an earlier row (same
     * subject, or keys making the system ill-conditioned) are left out and reported in
     * {@link SequentialResult#failed()} with the reason; the first row of a conflict stays. The edit is undone
     * before returning. Requires {@link EvalMode#REFACT}.
     *
     * @param model   the text encoder, clean; it has the same weights again on return
     * @param dataset the dataset the rows come from
     * @param rows    rows of {@code dataset} to edit together
     * @return a single-point result; {@link SequentialResult#points()} is empty if every row was left out
     * @throws IllegalArgumentException if the mode is not refact, or a row does not fit the model
     * @throws IOException              if the dataset file cannot be read (it is hashed) or the scorer fails
     */
    public SequentialResult runJoint(ClipTextModel model, Dataset dataset, List<EvalCase> rows) throws IOException {
        if (mode != EvalMode.REFACT) {
            throw new IllegalArgumentException("joint mode edits; it needs mode refact, not " + mode.key());
        }
        EvaluationSetup setup = setup(model, dataset, rows);
        Editor editor = editor(model);
        long start = System.nanoTime();
        RowScorers scorers = new RowScorers(model, rows);
        listener.started(progress(0, 1, 0, 0, start));
        List<Integer> kept = new ArrayList<>(IntStream.range(0, rows.size()).boxed().toList());
        List<SkippedRow> failed = new ArrayList<>();
        JointEditResult joint = null;
        while (joint == null && !kept.isEmpty()) {
            List<EditRequest> requests = kept.stream().map(i -> rows.get(i).toRequest()).toList();
            try {
                joint = editor.editJointly(model, requests);
            } catch (EditConflictException e) {
                List<Integer> out = leftOut(e.requests(), kept.size());
                for (int k : out) {
                    EvalCase c = rows.get(kept.get(k));
                    failed.add(new SkippedRow(c.row(), c.label(), "left out of the joint edit: " + e.getMessage()));
                }
                for (int k = out.size() - 1; k >= 0; k--) {
                    kept.remove((int) out.get(k));
                }
            }
        }
        List<EditSummary> summaries = new ArrayList<>();
        List<SequentialPoint> points = new ArrayList<>();
        if (joint != null) {
            try {
                double ms = (System.nanoTime() - start) / 1e6 / kept.size();
                for (RequestOutcome x : joint.outcomes()) {
                    summaries.add(EditSummary.of(x.steps(), x.stopReason(),
                            x.targetProbability(), x.deltaNorm(), ms));
                }
                List<ProbeScore> all = scorers.scores(model, kept);
                SequentialPoint p = new SequentialPoint(rows.size(), kept.size(), Metrics.aggregate(all),
                        Duration.ofNanos(System.nanoTime() - start));
                points.add(p);
                listener.sequentialPoint(p, progress(1, 1, 0, 1, start));
            } finally {
                joint.undo();
            }
        }
        return new SequentialResult(setup, rows.size(), points, summaries, failed, List.of());
    }

    /**
     * The probes this runner scores for a row: {@link EvalCase#twoWayProbes()}, with the oracle prompts swapped
     * in for the efficacy and generalisation probes in oracle mode.
     *
     * @param c a dataset row
     * @return the row's probes, efficacy first, then positives, then negatives (a new list)
     * @throws NullPointerException in oracle mode for a row without oracle prompts (the runner skips those)
     */
    public List<TwoWayProbe> probes(EvalCase c) {
        List<TwoWayProbe> probes = c.twoWayProbes();
        if (mode != EvalMode.ORACLE) {
            return probes;
        }
        List<TwoWayProbe> out = new ArrayList<>();
        int pos = 0;
        for (TwoWayProbe p : probes) {
            String prompt = switch (p.kind()) {
                case EFFICACY -> c.oraclePrompt();
                case GENERALISATION -> c.positives().get(pos++).oraclePrompt();
                case SPECIFICITY -> p.prompt();
            };
            java.util.Objects.requireNonNull(prompt, () -> c.label() + " has no oracle prompt for a " + p.kind()
                    + " probe");
            out.add(new TwoWayProbe(p.kind(), prompt, p.oldText(), p.newText()));
        }
        return out;
    }

    private List<SkippedRow> skipped(List<EvalCase> rows) {
        List<SkippedRow> out = new ArrayList<>();
        if (mode == EvalMode.ORACLE) {
            for (EvalCase c : rows) {
                if (!c.hasOracle()) {
                    out.add(new SkippedRow(c.row(), c.label(), "no oracle prompts (the oracle mode needs the "
                            + (c.dataset() == DatasetKind.ROAD ? "Oracle and Positive_oracle{i}" : "new/gt{i}")
                            + " columns)"));
                }
            }
        }
        return out;
    }

    private Editor editor(ClipTextModel model) {
        int layers = model.config().numHiddenLayers();
        if (hyperparameters.layer() >= layers) {
            throw new IllegalArgumentException("layer " + hyperparameters.layer() + " is outside the model's "
                    + layers + " layers (0.." + (layers - 1) + ")");
        }
        try {
            return Editor.builder().tokenizer(tokenizer).statistics(statistics).hyperparameters(hyperparameters)
                    .allowStatisticsOfOtherModels(allowStatisticsOfOtherModels).build();
        } catch (IllegalStateException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    private EvaluationSetup setup(ClipTextModel model, Dataset dataset, List<EvalCase> rows) throws IOException {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(dataset, "dataset");
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("no rows to evaluate");
        }
        Set<Integer> seen = new HashSet<>();
        for (EvalCase c : rows) {
            if (c.row() >= dataset.size() || !dataset.cases().get(c.row()).equals(c)) {
                throw new IllegalArgumentException("row " + c.row() + " (" + c.label() + ") is not a row of "
                        + dataset.file());
            }
            if (!seen.add(c.row())) {
                throw new IllegalArgumentException("row " + c.row() + " is listed twice");
            }
        }
        boolean refact = mode == EvalMode.REFACT;
        return new EvaluationSetup(mode, scorer.space(), scorer.description(), dataset, sha256(dataset.file()), rows,
                seeds, model.fingerprint(), model.source(), refact ? hyperparameters : null,
                refact ? statistics.id() : null, results);
    }

    private static JsonObject info(ClipTextModel model, Dataset dataset) {
        JsonObject o = new JsonObject();
        o.addProperty("created_at", Instant.now().toString());
        o.addProperty("library_version", EditProvenance.currentLibraryVersion());
        o.addProperty("model_source", model.source());
        o.addProperty("dataset_file", dataset.file().toString());
        return o;
    }

    private EvalProgress progress(int done, int total, int resumed, int computed, long start) {
        long now = System.nanoTime();
        Duration elapsed = Duration.ofNanos(now - start);
        Duration eta = computed == 0 ? null
                : Duration.ofNanos((long) ((double) (now - start) / computed * (total - done)));
        return new EvalProgress(done, total, resumed, elapsed, eta);
    }

    static String sha256(Path file) throws IOException {
        return dev.refact.clip.io.Sha256.ofFile(file);
    }

    /** Every row's prepared scorer and probe kinds, for the curve points of sequential and joint runs. */
    private final class RowScorers {
        private final List<EvalCase> rows;
        private final List<ProbeScorer.RowScorer> scorers = new ArrayList<>();
        private final List<List<ProbeKind>> kinds = new ArrayList<>();

        RowScorers(ClipTextModel model, List<EvalCase> rows) {
            this.rows = rows;
            for (EvalCase c : rows) {
                List<TwoWayProbe> probes = probes(c);
                kinds.add(probes.stream().map(TwoWayProbe::kind).toList());
                scorers.add(scorer.prepare(model, c, probes));
            }
        }

        /** The scores of rows {@code which} (indices into the rows) at every seed, with the model as it is now. */
        List<ProbeScore> scores(ClipTextModel model, List<Integer> which) {
            List<ProbeScore> all = new ArrayList<>();
            for (int j : which) {
                for (int seed : seeds) {
                    all.addAll(ResultsFile.toScores(rows.get(j).row(), seed, kinds.get(j), scorers.get(j).pNew(model,
                            seed)));
                }
            }
            return all;
        }
    }

    /** Refuses a negative seed (shared with {@link SweepRunner.Builder#seeds}). */
    static void checkNotNegative(List<Integer> seeds) {
        for (int s : seeds) {
            if (s < 0) {
                throw new IllegalArgumentException("seeds must be >= 0, got " + s);
            }
        }
    }

    /** Refuses seeds other than [0] for a text-space (unseeded) scorer (shared with {@link SweepRunner.Builder}). */
    static void checkSeedsFit(ProbeScorer scorer, List<Integer> seeds) {
        if (!scorer.seeded() && !seeds.equals(List.of(0))) {
            throw new IllegalStateException("text-space scoring has no seeds (it is deterministic); got seeds "
                    + seeds + ", use the default [0]");
        }
    }

    /** Builds an {@link EvaluationRunner}; setters validate at once. */
    public static final class Builder {
        private EvalMode mode = EvalMode.REFACT;
        private ProbeScorer scorer;
        private ClipTokenizer tokenizer;
        private CovarianceStats statistics;
        private Hyperparameters hyperparameters;
        private List<Integer> seeds;
        private Path results;
        private EvaluationListener listener = EvaluationListener.NONE;
        private CellExecutor executor;
        private boolean allowStatisticsOfOtherModels;

        private Builder() {
        }

        /**
         * Whether the editor accepts statistics computed on another model (default false: refused); see
         * {@link Editor.Builder#allowStatisticsOfOtherModels(boolean)}.
         *
         * @param value true to allow
         * @return this builder
         */
        public Builder allowStatisticsOfOtherModels(boolean value) {
            allowStatisticsOfOtherModels = value;
            return this;
        }

        /**
         * Computes the pending cells with {@code value} (e.g. on a Spark cluster) instead of in this thread; the
         * runner still checks the configuration, reads and appends the results file, reports progress and
         * assembles the result. The model given to {@code run} is then only fingerprinted, not edited.
         *
         * @param value the executor, not null
         * @return this builder
         */
        public Builder executor(CellExecutor value) {
            executor = Objects.requireNonNull(value, "executor");
            return this;
        }

        /**
         * Refact (default), baseline or oracle.
         *
         * @param value the mode, not null
         * @return this builder
         */
        public Builder mode(EvalMode value) {
            mode = Objects.requireNonNull(value, "mode");
            return this;
        }

        /**
         * How probes are scored (required).
         *
         * @param value the scorer, not null
         * @return this builder
         */
        public Builder scorer(ProbeScorer value) {
            scorer = Objects.requireNonNull(value, "scorer");
            return this;
        }

        /**
         * The editor's settings (required in refact mode; the statistics are owned by the caller and must be at
         * the hyperparameters' layer).
         *
         * @param tokenizer       the model's tokenizer, not null
         * @param statistics      covariance statistics of the edited layer, not null; not closed by the runner
         * @param hyperparameters the editor's settings, not null
         * @return this builder
         * @throws NullPointerException     if an argument is null
         * @throws IllegalArgumentException if the statistics are for another layer
         */
        public Builder editor(ClipTokenizer tokenizer, CovarianceStats statistics, Hyperparameters hyperparameters) {
            Objects.requireNonNull(tokenizer, "tokenizer");
            Objects.requireNonNull(statistics, "statistics");
            Objects.requireNonNull(hyperparameters, "hyperparameters");
            if (statistics.layer() != hyperparameters.layer()) {
                throw new IllegalArgumentException("statistics are for layer " + statistics.layer()
                        + " but the hyperparameters edit layer " + hyperparameters.layer());
            }
            this.tokenizer = tokenizer;
            this.statistics = statistics;
            this.hyperparameters = hyperparameters;
            return this;
        }

        /**
         * Seeds per row (default 0..24 for a seeded scorer, as the paper; text space always uses {@code [0]}).
         *
         * @param value the seeds, in run order; copied
         * @return this builder
         * @throws IllegalArgumentException if empty, negative or repeated
         */
        public Builder seeds(List<Integer> value) {
            Objects.requireNonNull(value, "seeds");
            if (value.isEmpty()) {
                throw new IllegalArgumentException("seeds: at least one seed is needed");
            }
            if (new HashSet<>(value).size() != value.size()) {
                throw new IllegalArgumentException("seeds: " + value + " repeats a seed");
            }
            checkNotNegative(value);
            seeds = List.copyOf(value);
            return this;
        }

        /**
         * The JSON-lines results file (created or resumed); without it results stay in memory.
         *
         * @param value the file path, not null (missing parent directories are created on run)
         * @return this builder
         */
        public Builder results(Path value) {
            results = Objects.requireNonNull(value, "results");
            return this;
        }

        /**
         * Progress, skips, warnings.
         *
         * @param value the listener (default {@link EvaluationListener#NONE}), not null
         * @return this builder
         */
        public Builder listener(EvaluationListener value) {
            listener = Objects.requireNonNull(value, "listener");
            return this;
        }

        /**
         * Builds the runner.
         *
         * @return a new runner with this builder's settings
         * @throws IllegalStateException if the scorer is missing, refact mode lacks editor settings, or seeds
         *                               other than {@code [0]} were given to an unseeded (text-space) scorer
         */
        public EvaluationRunner build() {
            if (scorer == null) {
                throw new IllegalStateException("EvaluationRunner.builder(): a scorer is required");
            }
            if (mode == EvalMode.REFACT && hyperparameters == null) {
                throw new IllegalStateException("EvaluationRunner.builder(): mode refact needs editor(tokenizer, "
                        + "statistics, hyperparameters)");
            }
            if (seeds == null) {
                seeds = scorer.seeded() ? IntStream.range(0, 25).boxed().toList() : List.of(0);
            } else {
                checkSeedsFit(scorer, seeds);
            }
            return new EvaluationRunner(this);
        }
    }
}
