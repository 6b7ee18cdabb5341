package dev.refact.core;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Every setting of a ReFACT edit. Immutable; build with {@link #builder()} (each setter validates its
 * value at once) or start from a preset: {@link #roleEdits()} (layer 7, the paper's RoAD setting) or
 * {@link #appearanceEdits()} (layer 9, TIME).
 *
 * <p>JSON form ({@link #toJson()}/{@link #fromJson(String)}): snake_case keys named after the released
 * code where it has one ({@code v_lr}, {@code v_weight_decay}, {@code clamp_norm_factor}, …); ReFACT's own
 * hyper-parameter files load unmodified (their {@code layers: [L]} and known unused keys are accepted).
 *
 * @param layer                0-based layer whose {@code mlp.fc2.weight} is edited ({@code layer})
 * @param templates            context templates with a {@code {}} placeholder ({@code context_templates})
 * @param contrastivePool      captions from which the contrastive candidates are drawn ({@code contrastive_prompts})
 * @param numContrastive       N, how many captions join [target, source] as candidates ({@code num_contrastive})
 * @param similarity           L2 or cosine·100 logits ({@code similarity})
 * @param representation       projected or pooled end-token embedding ({@code representation})
 * @param learningRate         Adam learning rate for δ ({@code v_lr})
 * @param maxSteps             the step cap ({@code v_max_grad_steps}): Adam updates or loop iterations, see
 *                             {@code stepCounting} and {@link #adamUpdateCap()}
 * @param probabilityThreshold stop when mean p(target) exceeds it ({@code v_prob_threshold})
 * @param weightDecay          weight of ‖δ‖/‖t₀‖² in the loss ({@code v_weight_decay})
 * @param clampFactor          ‖δ‖ ≤ clampFactor·‖t₀‖ after each step ({@code clamp_norm_factor})
 * @param covarianceDamping    λ in C + λ·mean(diag C)·I ({@code mom2_damping})
 * @param seed                 seeds the choice of the N contrastive captions from the pool ({@code seed})
 * @param stepCounting         what {@code maxSteps} counts: Adam updates (ours) or loop iterations (the released
 *                             code: at most {@code maxSteps − 1} updates) ({@code v_max_grad_steps_counts})
 */
public record Hyperparameters(int layer, List<String> templates, List<String> contrastivePool, int numContrastive,
                              Similarity similarity, Representation representation, double learningRate,
                              int maxSteps, double probabilityThreshold, double weightDecay, double clampFactor,
                              double covarianceDamping, long seed, StepCounting stepCounting) {

    /** Reference-file keys that are accepted and have no effect here (documented in docs/method.md). */
    private static final Set<String> IGNORED_REFERENCE_KEYS = Set.of("fact_token", "v_num_grad_steps",
            "v_loss_layer", "kl_factor", "mom2_adjustment", "context_template_length_params", "rewrite_module_tmp",
            "layer_module_tmp", "mlp_module_tmp", "attn_module_tmp", "ln_f_module", "lm_head_module",
            "mom2_dataset", "mom2_n_samples", "mom2_dtype", "stats_dir");

    /**
     * Validates everything (the builder has already validated each field).
     *
     * @param layer                0-based layer to edit, &ge; 0
     * @param templates            context templates, at least one, each with exactly one {@code {}} (copied)
     * @param contrastivePool      caption pool (copied)
     * @param numContrastive       N in [0, {@code contrastivePool.size()}]
     * @param similarity           logit kind, not null
     * @param representation       embedding kind, not null
     * @param learningRate         finite, &gt; 0
     * @param maxSteps             &ge; 0, or &ge; 1 with {@link StepCounting#LOOP_ITERATIONS}
     * @param probabilityThreshold in (0, 1]
     * @param weightDecay          finite, &ge; 0
     * @param clampFactor          finite, &gt; 0
     * @param covarianceDamping    finite, &ge; 0
     * @param seed                 any value; 0 keeps the pool order
     * @param stepCounting         not null
     * @throws IllegalArgumentException if a value is out of range (the message names its JSON key)
     * @throws NullPointerException     if a list, enum or template is null
     */
    public Hyperparameters {
        templates = List.copyOf(templates);
        contrastivePool = List.copyOf(contrastivePool);
        Builder.checkLayer(layer);
        Builder.checkTemplates(templates);
        if (numContrastive < 0 || numContrastive > contrastivePool.size()) {
            throw new IllegalArgumentException("num_contrastive " + numContrastive + " must be in [0, "
                    + contrastivePool.size() + "] (the size of the contrastive pool)");
        }
        Objects.requireNonNull(similarity, "similarity");
        Objects.requireNonNull(representation, "representation");
        Builder.checkPositive(learningRate, "v_lr");
        if (maxSteps < 0) {
            throw new IllegalArgumentException("v_max_grad_steps must be >= 0, got " + maxSteps);
        }
        if (!(probabilityThreshold > 0 && probabilityThreshold <= 1)) {
            throw new IllegalArgumentException("v_prob_threshold must be in (0, 1], got " + probabilityThreshold);
        }
        Builder.checkNonNegative(weightDecay, "v_weight_decay");
        Builder.checkPositive(clampFactor, "clamp_norm_factor");
        Builder.checkNonNegative(covarianceDamping, "mom2_damping");
        Objects.requireNonNull(stepCounting, "v_max_grad_steps_counts");
        if (stepCounting == StepCounting.LOOP_ITERATIONS && maxSteps < 1) {
            throw new IllegalArgumentException("v_max_grad_steps must be >= 1 when it counts loop iterations, got "
                    + maxSteps);
        }
    }

    /**
     * The paper's role-edit setting (RoAD): layer 7, 20 contrastive captions, L2, lr 0.05, ≤100 steps.
     *
     * @return the builder defaults
     */
    public static Hyperparameters roleEdits() {
        return builder().build();
    }

    /**
     * The paper's appearance-edit setting (TIME): as {@link #roleEdits()} but layer 9.
     *
     * @return the role-edit setting at layer 9
     */
    public static Hyperparameters appearanceEdits() {
        return builder().layer(9).build();
    }

    /**
     * The released technion-cs-nlp/ReFACT code as its README runs it: the role-edit setting (layer 7, L2 logits,
     * lr 0.05, threshold 0.99, weight decay 0.1 — the README's 0.01 flag is dead —, clamp 4) with no contrastive
     * captions beyond [target, source] ({@code num_contrastive = 0}) and its step semantics: {@code
     * v_max_grad_steps = 100} loop iterations, i.e. at most 99 Adam updates ({@link StepCounting#LOOP_ITERATIONS}).
     * Loading one of the released code's hyper-parameter files with {@link #fromJson(String)} starts from this
     * preset. Deterministic where the released code is random (t₀ from the bare subject, see docs/method.md).
     *
     * @return the released code's setting
     */
    public static Hyperparameters releasedCode() {
        return builder().numContrastive(0).stepCounting(StepCounting.LOOP_ITERATIONS).build();
    }

    /**
     * The most Adam updates the v* search makes: {@code maxSteps} ({@link StepCounting#ADAM_UPDATES}) or
     * {@code maxSteps − 1} ({@link StepCounting#LOOP_ITERATIONS}).
     *
     * @return the Adam update cap, &ge; 0
     */
    public int adamUpdateCap() {
        return stepCounting == StepCounting.LOOP_ITERATIONS ? maxSteps - 1 : maxSteps;
    }

    /**
     * A builder holding the role-edit defaults.
     *
     * @return a new builder (as {@link #roleEdits()} until changed)
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A builder holding this object's values.
     *
     * @return a new builder; {@code build()} without changes gives an equal object
     */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /**
     * A copy with another layer.
     *
     * @param newLayer the 0-based layer to edit, &ge; 0
     * @return these hyperparameters with {@code layer = newLayer}
     */
    public Hyperparameters withLayer(int newLayer) {
        return toBuilder().layer(newLayer).build();
    }

    /**
     * The N contrastive captions: a deterministic shuffle of the pool by {@link #seed()}, then the first N
     * (with seed 0 the pool order is kept).
     *
     * @return an unmodifiable list of {@link #numContrastive()} captions from {@link #contrastivePool()}
     */
    public List<String> contrastivePrompts() {
        List<String> pool = new ArrayList<>(contrastivePool);
        if (seed != 0) {
            SplittableRandom rng = new SplittableRandom(seed);
            for (int i = pool.size() - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                String t = pool.get(i);
                pool.set(i, pool.get(j));
                pool.set(j, t);
            }
        }
        return List.copyOf(pool.subList(0, numContrastive));
    }

    /**
     * JSON text with snake_case keys (pretty-printed).
     *
     * @return a JSON object with every setting ({@code v_max_grad_steps_counts} only when not the default);
     *         {@link #fromJson(String)} reads it back to an equal object
     */
    public String toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("layer", layer);
        o.add("context_templates", array(templates));
        o.add("contrastive_prompts", array(contrastivePool));
        o.addProperty("num_contrastive", numContrastive);
        o.addProperty("similarity", similarity.name().toLowerCase(Locale.ROOT));
        o.addProperty("representation", representation.name().toLowerCase(Locale.ROOT));
        o.addProperty("v_lr", learningRate);
        o.addProperty("v_max_grad_steps", maxSteps);
        o.addProperty("v_prob_threshold", probabilityThreshold);
        o.addProperty("v_weight_decay", weightDecay);
        o.addProperty("clamp_norm_factor", clampFactor);
        o.addProperty("mom2_damping", covarianceDamping);
        o.addProperty("seed", seed);
        if (stepCounting != StepCounting.ADAM_UPDATES) {
            o.addProperty("v_max_grad_steps_counts", stepCounting.name().toLowerCase(Locale.ROOT));
        }
        return new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(o);
    }

    /**
     * Parses {@link #toJson()} output or a ReFACT hyper-parameter file. Missing keys keep the role-edit
     * defaults; a file of the released code (recognised by its {@code layers} list or any of its module/statistics
     * keys) starts from {@link #releasedCode()} instead, so it runs with the released step semantics and no
     * contrastive captions unless it says otherwise.
     *
     * @param json JSON object text
     * @return the validated hyperparameters
     * @throws IllegalArgumentException for invalid JSON, an unknown key, a value of the wrong type or an
     *                                  invalid value (the message names the key); also when {@code num_contrastive}
     *                                  exceeds the size of {@code contrastive_prompts}, whatever the keys' order (a
     *                                  pool alone clamps the preset's N to its size, as
     *                                  {@link Builder#contrastivePool(List)} does)
     */
    public static Hyperparameters fromJson(String json) {
        JsonElement root;
        try {
            root = JsonParser.parseString(json);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("hyperparameters: invalid JSON: " + e.getMessage(), e);
        }
        if (!root.isJsonObject()) {
            throw new IllegalArgumentException("hyperparameters: expected a JSON object");
        }
        boolean reference = root.getAsJsonObject().keySet().stream()
                .anyMatch(k -> k.equals("layers") || IGNORED_REFERENCE_KEYS.contains(k));
        Builder b = reference ? releasedCode().toBuilder() : builder();
        // The pool first, whatever the key order: setting the pool clamps the preset's N to its size (the builder's
        // rule), while an N the file states is checked against the pool by build(); so {num_contrastive: 50,
        // contrastive_prompts: [10 captions]} is refused in either order instead of silently becoming N = 10.
        List<Map.Entry<String, JsonElement>> entries = new ArrayList<>(root.getAsJsonObject().entrySet());
        entries.sort(java.util.Comparator.comparing(e -> !e.getKey().equals("contrastive_prompts")));
        for (Map.Entry<String, JsonElement> e : entries) {
            String key = e.getKey();
            JsonElement v = e.getValue();
            try {
                switch (key) {
                    case "layer" -> b.layer(v.getAsInt());
                    case "layers" -> {
                        JsonArray a = v.getAsJsonArray();
                        if (a.size() != 1) {
                            throw new IllegalArgumentException("exactly one layer is edited, got " + a);
                        }
                        b.layer(a.get(0).getAsInt());
                    }
                    case "context_templates" -> b.templates(strings(v));
                    case "contrastive_prompts" -> b.contrastivePool(strings(v));
                    case "num_contrastive" -> b.numContrastive(v.getAsInt());
                    case "similarity" -> b.similarity(Similarity.valueOf(v.getAsString().toUpperCase(Locale.ROOT)));
                    case "representation" ->
                            b.representation(Representation.valueOf(v.getAsString().toUpperCase(Locale.ROOT)));
                    case "v_lr" -> b.learningRate(v.getAsDouble());
                    case "v_max_grad_steps" -> b.maxSteps(v.getAsInt());
                    case "v_prob_threshold" -> b.probabilityThreshold(v.getAsDouble());
                    case "v_weight_decay" -> b.weightDecay(v.getAsDouble());
                    case "clamp_norm_factor" -> b.clampFactor(v.getAsDouble());
                    case "mom2_damping" -> b.covarianceDamping(v.getAsDouble());
                    case "seed" -> b.seed(v.getAsLong());
                    case "v_max_grad_steps_counts" ->
                            b.stepCounting(StepCounting.valueOf(v.getAsString().toUpperCase(Locale.ROOT)));
                    default -> {
                        if (!IGNORED_REFERENCE_KEYS.contains(key)) {
                            throw new IllegalArgumentException("unknown key");
                        }
                        if (key.equals("fact_token") && !v.getAsString().equals("subject_last")) {
                            throw new IllegalArgumentException("only subject_last is supported");
                        }
                        if (key.equals("mom2_adjustment") && !v.getAsBoolean()) {
                            throw new IllegalArgumentException("false is not supported (ReFACT always uses C)");
                        }
                    }
                }
            } catch (IllegalArgumentException | IllegalStateException | UnsupportedOperationException ex) {
                throw new IllegalArgumentException("hyperparameters: key '" + key + "' = " + v + ": " + ex.getMessage(), ex);
            }
        }
        try {
            return b.build();
        } catch (IllegalArgumentException ex) {
            throw new IllegalArgumentException("hyperparameters: " + ex.getMessage(), ex);
        }
    }

    private static JsonArray array(List<String> list) {
        JsonArray a = new JsonArray();
        list.forEach(s -> a.add(new JsonPrimitive(s)));
        return a;
    }

    private static List<String> strings(JsonElement v) {
        List<String> out = new ArrayList<>();
        for (JsonElement e : v.getAsJsonArray()) {
            out.add(e.getAsString());
        }
        return out;
    }

    /** Builder whose setters validate at once, naming the JSON key in the message. */
    public static final class Builder {
        private int layer = 7;
        private List<String> templates = ContextTemplates.REFACT;
        private List<String> contrastivePool = ContextTemplates.DEFAULT_CONTRASTIVE;
        private int numContrastive = 20;
        private Similarity similarity = Similarity.L2;
        private Representation representation = Representation.PROJECTED;
        private double learningRate = 0.05;
        private int maxSteps = 100;
        private double probabilityThreshold = 0.99;
        private double weightDecay = 0.1;
        private double clampFactor = 4.0;
        private double covarianceDamping = 0.0;
        private long seed = 0;
        private StepCounting stepCounting = StepCounting.ADAM_UPDATES;

        private Builder() {
        }

        private Builder(Hyperparameters h) {
            layer = h.layer;
            templates = h.templates;
            contrastivePool = h.contrastivePool;
            numContrastive = h.numContrastive;
            similarity = h.similarity;
            representation = h.representation;
            learningRate = h.learningRate;
            maxSteps = h.maxSteps;
            probabilityThreshold = h.probabilityThreshold;
            weightDecay = h.weightDecay;
            clampFactor = h.clampFactor;
            covarianceDamping = h.covarianceDamping;
            seed = h.seed;
            stepCounting = h.stepCounting;
        }

        /**
         * Layer to edit, 0-based (checked against the model when editing).
         *
         * @param value the layer, &ge; 0
         * @return this builder
         */
        public Builder layer(int value) {
            checkLayer(value);
            layer = value;
            return this;
        }

        /**
         * Context templates, each with one {@code {}}.
         *
         * @param value at least one template, each with exactly one {@code {}} (copied)
         * @return this builder
         */
        public Builder templates(List<String> value) {
            checkTemplates(value);
            templates = List.copyOf(value);
            return this;
        }

        /**
         * The caption pool for contrastive candidates; N is clamped to its size.
         *
         * @param value the captions, none blank (copied)
         * @return this builder
         */
        public Builder contrastivePool(List<String> value) {
            Objects.requireNonNull(value, "contrastive_prompts");
            for (String s : value) {
                if (s == null || s.isBlank()) {
                    throw new IllegalArgumentException("contrastive_prompts contains a blank prompt");
                }
            }
            contrastivePool = List.copyOf(value);
            numContrastive = Math.min(numContrastive, contrastivePool.size());
            return this;
        }

        /**
         * N, the number of contrastive captions (the paper's ablation: 0, 15, 20, 30, 50).
         *
         * @param value N, &ge; 0 and at most the pool size (checked by {@link #build()})
         * @return this builder
         */
        public Builder numContrastive(int value) {
            if (value < 0) {
                throw new IllegalArgumentException("num_contrastive must be >= 0, got " + value);
            }
            numContrastive = value;
            return this;
        }

        /**
         * L2 or cosine·100 logits between the edited embedding and the candidates ({@code similarity}).
         *
         * @param value the logit kind, not null
         * @return this builder
         */
        public Builder similarity(Similarity value) {
            similarity = Objects.requireNonNull(value, "similarity");
            return this;
        }

        /**
         * Projected or pooled end-token embedding ({@code representation}).
         *
         * @param value the embedding kind, not null
         * @return this builder
         */
        public Builder representation(Representation value) {
            representation = Objects.requireNonNull(value, "representation");
            return this;
        }

        /**
         * Adam learning rate for δ, &gt; 0 ({@code v_lr}).
         *
         * @param value the learning rate, finite and &gt; 0
         * @return this builder
         */
        public Builder learningRate(double value) {
            checkPositive(value, "v_lr");
            learningRate = value;
            return this;
        }

        /**
         * At most this many Adam steps, &ge; 0 ({@code v_max_grad_steps}).
         *
         * @param value the step cap, &ge; 0 (&ge; 1 with {@link StepCounting#LOOP_ITERATIONS}, checked by
         *              {@link #build()})
         * @return this builder
         */
        public Builder maxSteps(int value) {
            if (value < 0) {
                throw new IllegalArgumentException("v_max_grad_steps must be >= 0, got " + value);
            }
            maxSteps = value;
            return this;
        }

        /**
         * Stop when mean p(target) exceeds this, in (0, 1] ({@code v_prob_threshold}).
         *
         * @param value the threshold, in (0, 1]
         * @return this builder
         */
        public Builder probabilityThreshold(double value) {
            if (!(value > 0 && value <= 1)) {
                throw new IllegalArgumentException("v_prob_threshold must be in (0, 1], got " + value);
            }
            probabilityThreshold = value;
            return this;
        }

        /**
         * Weight of ‖δ‖/‖t₀‖² in the loss, &ge; 0 ({@code v_weight_decay}).
         *
         * @param value the weight, finite and &ge; 0
         * @return this builder
         */
        public Builder weightDecay(double value) {
            checkNonNegative(value, "v_weight_decay");
            weightDecay = value;
            return this;
        }

        /**
         * ‖δ‖ ≤ clampFactor·‖t₀‖ after each step, &gt; 0 ({@code clamp_norm_factor}).
         *
         * @param value the factor, finite and &gt; 0
         * @return this builder
         */
        public Builder clampFactor(double value) {
            checkPositive(value, "clamp_norm_factor");
            clampFactor = value;
            return this;
        }

        /**
         * λ in C + λ·mean(diag C)·I, &ge; 0 ({@code mom2_damping}; 0 = none).
         *
         * @param value λ, finite and &ge; 0
         * @return this builder
         */
        public Builder covarianceDamping(double value) {
            checkNonNegative(value, "mom2_damping");
            covarianceDamping = value;
            return this;
        }

        /**
         * Seeds the choice of the N contrastive captions from the pool ({@code seed}).
         *
         * @param value any seed; 0 keeps the pool order
         * @return this builder
         */
        public Builder seed(long value) {
            seed = value;
            return this;
        }

        /**
         * What {@code maxSteps} counts ({@code v_max_grad_steps_counts}: adam_updates or loop_iterations).
         *
         * @param value the step semantics, not null
         * @return this builder
         */
        public Builder stepCounting(StepCounting value) {
            stepCounting = Objects.requireNonNull(value, "v_max_grad_steps_counts");
            return this;
        }

        /**
         * Builds the hyperparameters.
         *
         * @return the immutable hyperparameters
         * @throws IllegalArgumentException if N exceeds the caption pool, or {@code maxSteps} is 0 while it counts
         *                                  loop iterations
         */
        public Hyperparameters build() {
            return new Hyperparameters(layer, templates, contrastivePool, numContrastive, similarity, representation,
                    learningRate, maxSteps, probabilityThreshold, weightDecay, clampFactor, covarianceDamping, seed,
                    stepCounting);
        }

        static void checkLayer(int value) {
            if (value < 0) {
                throw new IllegalArgumentException("layer must be >= 0, got " + value);
            }
        }

        static void checkTemplates(List<String> value) {
            Objects.requireNonNull(value, "context_templates");
            if (value.isEmpty()) {
                throw new IllegalArgumentException("context_templates is empty: the key needs at least one template");
            }
            for (String t : value) {
                if (t == null || t.indexOf("{}") < 0 || t.indexOf("{}") != t.lastIndexOf("{}")) {
                    throw new IllegalArgumentException("context template \"" + t + "\" must contain exactly one {}");
                }
            }
        }

        static void checkPositive(double v, String key) {
            if (!(v > 0) || Double.isInfinite(v)) {
                throw new IllegalArgumentException(key + " must be a finite number > 0, got " + v);
            }
        }

        static void checkNonNegative(double v, String key) {
            if (!(v >= 0) || Double.isInfinite(v)) {
                throw new IllegalArgumentException(key + " must be a finite number >= 0, got " + v);
            }
        }
    }
}
