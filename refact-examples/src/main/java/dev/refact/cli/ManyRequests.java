package dev.refact.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.refact.clip.ClipTextModel;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.core.EditRequest;
import dev.refact.core.Editor;
import dev.refact.core.Hyperparameters;
import dev.refact.core.JointEditResult;
import dev.refact.core.JointOptions;
import dev.refact.core.ProgressListener;
import dev.refact.core.Representation;
import dev.refact.core.RequestOutcome;
import dev.refact.core.eval.TextSpaceEvaluator;
import dev.refact.core.eval.TwoWayProbe;
import dev.refact.core.stats.CovarianceStats;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** {@code refact edit --requests FILE.jsonl --joint | --sequential [--protect]}: many requests at once. */
final class ManyRequests {
    /** Most request lines read from one file. */
    static final int MAX_REQUESTS = 100_000;
    private static final Set<String> KEYS = Set.of("prompt", "subject", "source", "target");
    private final EditCommand c;

    ManyRequests(EditCommand command) {
        this.c = command;
    }

    int call() throws Exception {
        if (c.prompt != null || c.subject != null || c.source != null || c.target != null) {
            throw c.usage("--requests replaces --prompt/--subject/--source/--target; give one or the other");
        }
        if (c.joint == c.sequential) {
            throw c.usage("--requests needs exactly one of --joint and --sequential");
        }
        if (c.protect && !c.sequential) {
            throw c.usage("--protect needs --sequential (a joint edit holds every request by construction)");
        }
        List<EditRequest> requests = read(c.requests);
        Hyperparameters hp = c.hyperparameters();
        JointOptions options = JointOptions.defaults();
        if (c.ridge != null) {
            options = options.withRidge(c.ridge);
        }
        if (c.maxCondition != null) {
            options = options.withMaxCondition(c.maxCondition);
        }
        ClipTokenizer tokenizer = c.model.loadTokenizer();
        var err = c.spec.commandLine().getErr();
        try (ClipTextModel m = c.model.loadModel();
             CovarianceStats stats = StatsSupport.loadOrCompute(c.stats, m, tokenizer, hp.layer(), err, c.allowForeignStats)) {
            boolean projected = hp.representation() == Representation.PROJECTED;
            TextSpaceEvaluator evaluator = new TextSpaceEvaluator(tokenizer, projected);
            List<TwoWayProbe> probes = new ArrayList<>();
            for (EditRequest r : requests) {
                probes.addAll(EditCommand.probes(r, hp));
            }
            TextSpaceEvaluator.Reference ref = evaluator.reference(m, probes);
            double[] before = evaluator.score(m, ref);
            Editor editor = Editor.builder().tokenizer(tokenizer).statistics(stats).hyperparameters(hp)
                    .allowStatisticsOfOtherModels(c.allowForeignStats)
                    .listener(new ProgressListener() {
                        @Override
                        public void edited(EditRequest r, int index, int total) {
                            err.printf(Locale.ROOT, "refact: edit %d/%d done (%s)%n", index + 1, total, r.prompt());
                            err.flush();
                        }
                    }).build();
            List<JointEditResult> results = c.joint ? List.of(editor.editJointly(m, requests, options))
                    : editor.editSequentially(m, requests, options, c.protect);
            double[] after = evaluator.score(m, ref);
            if (c.saveEdit != null) {
                if (results.size() == 1) {
                    results.get(0).save(c.saveEdit);
                } else {
                    for (int i = 0; i < results.size(); i++) {
                        results.get(i).save(numbered(c.saveEdit, i + 1));
                    }
                }
            }
            if (c.out != null) {
                m.save(c.out);
            }
            c.spec.commandLine().getOut().println(summary(results, probes, before, after, m.fingerprint()));
        }
        return 0;
    }

    /** FILE.ext → FILE-i.ext. */
    static Path numbered(Path file, int i) {
        String name = file.getFileName().toString();
        int dot = name.indexOf('.');
        String numbered = dot < 0 ? name + "-" + i : name.substring(0, dot) + "-" + i + name.substring(dot);
        return file.resolveSibling(numbered);
    }

    private String summary(List<JointEditResult> results, List<TwoWayProbe> probes, double[] before, double[] after,
                           String fingerprint) {
        JsonObject o = new JsonObject();
        o.addProperty("mode", c.joint ? "joint" : c.protect ? "sequential_protected" : "sequential");
        int n = results.stream().mapToInt(r -> r.outcomes().size()).sum();
        o.addProperty("requests", n);
        o.addProperty("layer", results.get(0).layer());
        o.addProperty("max_adam_updates", results.get(0).hyperparameters().adamUpdateCap());
        o.addProperty("ridge", results.get(0).ridge());
        double cond = results.stream().mapToDouble(JointEditResult::conditionNumber).max().orElse(1);
        o.addProperty("condition_number", cond);
        o.addProperty("max_residual", results.stream().mapToDouble(JointEditResult::maxResidual).max().orElse(0));
        o.addProperty("max_protected_drift", results.stream().mapToDouble(JointEditResult::protectedDrift).max()
                .orElse(0));
        JsonArray ids = new JsonArray();
        JsonArray rows = new JsonArray();
        long total = 0;
        JsonObject times = new JsonObject();
        for (JointEditResult r : results) {
            ids.add(r.changeId());
            for (RequestOutcome x : r.outcomes()) {
                JsonObject q = new JsonObject();
                q.addProperty("prompt", x.request().prompt());
                q.addProperty("subject", x.request().subject());
                q.addProperty("source", x.request().source());
                q.addProperty("target", x.request().target());
                q.addProperty("change_id", r.changeId());
                q.addProperty("steps", x.steps());
                q.addProperty("stop_reason", x.stopReason().name().toLowerCase(Locale.ROOT));
                q.addProperty("p_target", x.targetProbability());
                q.addProperty("delta_norm", x.deltaNorm());
                q.addProperty("t0_norm", x.t0Norm());
                q.addProperty("residual", x.residual());
                rows.add(q);
            }
            for (Map.Entry<String, Duration> e : r.timings().entrySet()) {
                double ms = e.getValue().toNanos() / 1e6;
                times.addProperty(e.getKey(), (times.has(e.getKey()) ? times.get(e.getKey()).getAsDouble() : 0) + ms);
                total += e.getValue().toNanos();
            }
        }
        times.addProperty("total", total / 1e6);
        o.add("change_ids", ids);
        o.add("results", rows);
        o.add("times_ms", times);
        o.addProperty("model_fingerprint", fingerprint);
        JsonObject ts = new JsonObject();
        ts.add("before", EditCommand.metrics(probes, before));
        ts.add("after", EditCommand.metrics(probes, after));
        o.add("text_space", ts);
        return new GsonBuilder().disableHtmlEscaping().serializeSpecialFloatingPointValues().create().toJson(o);
    }

    /**
     * Reads the requests file: one JSON object per line with prompt, optional subject, source, target; blank lines
     * are skipped.
     *
     * @throws IllegalArgumentException naming the file and line of the first bad line
     */
    static List<EditRequest> read(Path file) throws IOException {
        List<EditRequest> out = new ArrayList<>();
        // streamed with line and size limits; missing, unreadable and non-UTF-8 files are said in words
        List<String> lines = dev.refact.clip.io.TextFiles.readLines(file, 1 << 20, MAX_REQUESTS + 1_000_000L);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) {
                continue;
            }
            String where = "--requests " + file + " line " + (i + 1);
            if (out.size() >= MAX_REQUESTS) {
                throw new IllegalArgumentException(where + ": more than " + MAX_REQUESTS + " requests");
            }
            JsonObject o;
            try {
                JsonElement e = JsonParser.parseString(line);
                if (!e.isJsonObject()) {
                    throw new IllegalArgumentException("expected a JSON object");
                }
                o = e.getAsJsonObject();
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(where + ": not a JSON object: " + e.getMessage(), e);
            }
            for (String k : o.keySet()) {
                if (!KEYS.contains(k)) {
                    throw new IllegalArgumentException(where + ": unknown key '" + k + "' (prompt, subject, source, "
                            + "target)");
                }
            }
            try {
                out.add(new EditRequest(text(o, "prompt"), o.has("subject") ? text(o, "subject") : null,
                        text(o, "source"), text(o, "target")));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("--requests " + file + " has no requests");
        }
        return out;
    }

    private static String text(JsonObject o, String key) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            throw new IllegalArgumentException("missing \"" + key + "\"");
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw new IllegalArgumentException("\"" + key + "\" must be a string");
        }
        return e.getAsString();
    }
}
