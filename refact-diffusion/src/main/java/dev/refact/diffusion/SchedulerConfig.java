package dev.refact.diffusion;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A diffusers {@code scheduler/scheduler_config.json}: the training noise schedule and the
 * options the PNDM, DDIM and Euler schedulers read. The same file drives all three (as
 * {@code XxxScheduler.from_config} does), whatever its {@code _class_name}.
 *
 * @param numTrainTimesteps {@code num_train_timesteps} (1000)
 * @param betaStart         {@code beta_start} (SD: 0.00085)
 * @param betaEnd           {@code beta_end} (SD: 0.012)
 * @param betaSchedule      {@code linear}, {@code scaled_linear} (SD) or {@code squaredcos_cap_v2}
 * @param skipPrkSteps      PNDM: skip the Runge-Kutta warm-up (SD: true; false is not supported)
 * @param setAlphaToOne     the final step's previous alpha product is 1 instead of alphas_cumprod[0]
 * @param stepsOffset       added to PNDM/DDIM timesteps (SD: 1); Euler (diffusers 0.14) ignores it
 * @param clipSample        DDIM: clip the predicted x0 to ±{@code clipSampleRange} (SD config: false)
 * @param clipSampleRange   {@code clip_sample_range} (1.0)
 * @param predictionType    {@code epsilon} (SD 1.x), {@code v_prediction} or {@code sample}
 */
public record SchedulerConfig(int numTrainTimesteps, double betaStart, double betaEnd, String betaSchedule,
                              boolean skipPrkSteps, boolean setAlphaToOne, int stepsOffset, boolean clipSample,
                              double clipSampleRange, String predictionType) {
    /**
     * The largest {@code num_train_timesteps} accepted: far above any released schedule (Stable Diffusion and
     * every diffusers scheduler config use 1000), small enough that its tables cost under a megabyte.
     */
    public static final int MAX_TRAIN_TIMESTEPS = 100_000;

    /**
     * Validates the values.
     *
     * @param numTrainTimesteps {@code num_train_timesteps}, in [2, {@value #MAX_TRAIN_TIMESTEPS}]
     * @param betaStart         {@code beta_start}
     * @param betaEnd           {@code beta_end}
     * @param betaSchedule      {@code linear}, {@code scaled_linear} or {@code squaredcos_cap_v2}
     * @param skipPrkSteps      {@code skip_prk_steps} (PNDM needs true)
     * @param setAlphaToOne     {@code set_alpha_to_one}
     * @param stepsOffset       {@code steps_offset}, in [0, num_train_timesteps − 1]
     * @param clipSample        {@code clip_sample} (DDIM)
     * @param clipSampleRange   {@code clip_sample_range}
     * @param predictionType    {@code epsilon}, {@code v_prediction} or {@code sample}
     * @throws IllegalArgumentException for fewer than 2 training timesteps, a {@code steps_offset} outside
     *                                  [0, num_train_timesteps − 1], or an unknown schedule or prediction type
     */
    public SchedulerConfig {
        if (numTrainTimesteps < 2 || numTrainTimesteps > MAX_TRAIN_TIMESTEPS) {
            // the beta/alpha tables are allocated from this number alone: a hostile config must not size them
            throw new IllegalArgumentException("num_train_timesteps must be in [2, " + MAX_TRAIN_TIMESTEPS + "], got "
                    + numTrainTimesteps);
        }
        if (stepsOffset < 0 || stepsOffset >= numTrainTimesteps) {
            throw new IllegalArgumentException("steps_offset must be in [0, " + (numTrainTimesteps - 1)
                    + "] (num_train_timesteps " + numTrainTimesteps + "), got " + stepsOffset);
        }
        if (!betaSchedule.equals("linear") && !betaSchedule.equals("scaled_linear")
                && !betaSchedule.equals("squaredcos_cap_v2")) {
            throw new IllegalArgumentException("beta_schedule \"" + betaSchedule + "\" is not supported "
                    + "(linear, scaled_linear, squaredcos_cap_v2)");
        }
        if (!predictionType.equals("epsilon") && !predictionType.equals("v_prediction")
                && !predictionType.equals("sample")) {
            throw new IllegalArgumentException("prediction_type \"" + predictionType + "\" is not supported "
                    + "(epsilon, v_prediction, sample)");
        }
    }

    /**
     * Stable Diffusion v1.4's scheduler config (PNDM, scaled_linear 0.00085..0.012, steps_offset 1).
     *
     * @return the config SD 1.x was trained with (1000 timesteps, epsilon prediction)
     */
    public static SchedulerConfig stableDiffusion1() {
        return new SchedulerConfig(1000, 0.00085, 0.012, "scaled_linear", true, false, 1, false, 1.0, "epsilon");
    }

    /**
     * Reads {@code scheduler_config.json}.
     *
     * @param file a diffusers {@code scheduler/scheduler_config.json}; absent keys take diffusers' defaults
     * @return the validated config
     * @throws dev.refact.clip.io.CheckpointFormatException naming the file and an unsupported key/value
     * @throws IOException if the file cannot be read
     */
    public static SchedulerConfig read(Path file) throws IOException {
        ConfigJson c = ConfigJson.read(file);
        c.requireDefault("trained_betas", null);
        c.requireDefault("thresholding", false);
        c.requireDefault("use_karras_sigmas", false);
        c.requireDefault("interpolation_type", "linear");
        c.requireDefault("rescale_betas_zero_snr", false);
        if (c.has("timestep_spacing")) {
            String s = c.getString("timestep_spacing", "leading");
            if (!s.equals("leading")) {
                throw c.error("timestep_spacing", "= \"" + s + "\" is not supported (diffusers 0.14 semantics: "
                        + "leading for PNDM/DDIM, linspace for Euler)");
            }
        }
        boolean skipPrk = c.getBool("skip_prk_steps", false);
        try {
            return new SchedulerConfig(c.getInt("num_train_timesteps", 1000), c.getDouble("beta_start", 0.0001),
                    c.getDouble("beta_end", 0.02), c.getString("beta_schedule", "linear"), skipPrk,
                    c.getBool("set_alpha_to_one", true), c.getInt("steps_offset", 0), c.getBool("clip_sample", true),
                    c.getDouble("clip_sample_range", 1.0), c.getString("prediction_type", "epsilon"));
        } catch (IllegalArgumentException e) {
            throw new dev.refact.clip.io.CheckpointFormatException(file, e.getMessage());
        }
    }

    /**
     * Refuses a step count whose PNDM/DDIM timesteps would pass the last training timestep: their largest timestep
     * is {@code (steps − 1)·(T // steps) + steps_offset}, which must be at most {@code T − 1} (it indexes
     * {@code alphas_cumprod}). With SD's {@code steps_offset} 1 and T = 1000 only 1000 steps do not fit. Euler
     * ignores {@code steps_offset}, so every count in [1, T] fits.
     *
     * @param kind  the scheduler
     * @param steps inference steps, in [1, num_train_timesteps]
     * @throws IllegalArgumentException naming steps, steps_offset, num_train_timesteps and the largest count that fits
     */
    void checkSteps(SchedulerKind kind, int steps) {
        if (steps < 1 || steps > numTrainTimesteps) {
            throw new IllegalArgumentException("steps must be in [1, " + numTrainTimesteps + "] (num_train_timesteps), "
                    + "got " + steps);
        }
        if (kind == SchedulerKind.EULER || lastTimestep(steps) <= numTrainTimesteps - 1) {
            return;
        }
        int fits = steps - 1;
        while (lastTimestep(fits) > numTrainTimesteps - 1) { // stops at 1 at the latest: steps_offset <= T - 1
            fits--;
        }
        throw new IllegalArgumentException(kind + " with steps " + steps + ", steps_offset " + stepsOffset
                + " and num_train_timesteps " + numTrainTimesteps + " would reach timestep " + lastTimestep(steps)
                + ", past the last training timestep " + (numTrainTimesteps - 1) + "; the largest step count <= "
                + steps + " that fits is " + fits);
    }

    /** The first (largest) PNDM/DDIM timestep for {@code steps} steps. */
    private long lastTimestep(int steps) {
        return (long) (steps - 1) * (numTrainTimesteps / steps) + stepsOffset;
    }

    /**
     * The betas, {@code beta_schedule} as diffusers builds them in float32 (scaled_linear:
     * {@code linspace(sqrt(start), sqrt(end), N)²}); values within ~4e-7 relative of torch's.
     */
    float[] betas() {
        int n = numTrainTimesteps;
        float[] b = new float[n];
        switch (betaSchedule.toLowerCase(Locale.ROOT)) {
            case "linear":
                for (int i = 0; i < n; i++) {
                    b[i] = (float) (betaStart + (betaEnd - betaStart) * i / (n - 1));
                }
                break;
            case "scaled_linear": {
                double s = Math.sqrt(betaStart);
                double e = Math.sqrt(betaEnd);
                for (int i = 0; i < n; i++) {
                    float r = (float) (s + (e - s) * i / (n - 1));
                    b[i] = r * r;
                }
                break;
            }
            default: // squaredcos_cap_v2 (Glide cosine), max beta 0.999
                for (int i = 0; i < n; i++) {
                    double t1 = (double) i / n;
                    double t2 = (double) (i + 1) / n;
                    b[i] = (float) Math.min(1 - alphaBar(t2) / alphaBar(t1), 0.999);
                }
        }
        return b;
    }

    /** {@code cumprod(1 − betas)} in float32 (accumulated in double, as torch's CPU cumprod). */
    float[] alphasCumprod() {
        float[] b = betas();
        float[] a = new float[b.length];
        double acc = 1.0;
        for (int i = 0; i < b.length; i++) {
            acc *= (1.0f - b[i]);
            a[i] = (float) acc;
        }
        return a;
    }

    private static double alphaBar(double t) {
        double c = Math.cos((t + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }
}
