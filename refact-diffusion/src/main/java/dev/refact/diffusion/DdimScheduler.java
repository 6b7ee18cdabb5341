package dev.refact.diffusion;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;

/**
 * diffusers v0.14 {@code DDIMScheduler} with eta 0: timesteps {@code arange(N)·(T // N)}
 * reversed, plus {@code steps_offset}; {@code x0 = (x − sqrt(1−a)·e) / sqrt(a)} (clipped when
 * {@code clip_sample}), {@code x' = sqrt(a')·x0 + sqrt(1−a')·e}, with {@code a'} =
 * alphas_cumprod[t − T//N] or, past the start, alphas_cumprod[0] (or 1 with set_alpha_to_one).
 */
final class DdimScheduler implements Scheduler {
    private final SchedulerConfig config;
    private final float[] alphasCumprod;
    private final float finalAlphaCumprod;
    private final int ratio;
    private final double[] timesteps;
    private int counter;

    DdimScheduler(SchedulerConfig c, int steps) {
        this.config = c;
        this.alphasCumprod = c.alphasCumprod();
        this.finalAlphaCumprod = c.setAlphaToOne() ? 1.0f : alphasCumprod[0];
        this.ratio = c.numTrainTimesteps() / steps;
        this.timesteps = new double[steps];
        for (int i = 0; i < steps; i++) {
            timesteps[i] = (double) (steps - 1 - i) * ratio + c.stepsOffset();
        }
    }

    @Override
    public SchedulerKind kind() {
        return SchedulerKind.DDIM;
    }

    @Override
    public double[] timesteps() {
        return timesteps.clone();
    }

    @Override
    public StepOutput step(Tensor e, int i, Tensor x) {
        if (i != counter || i >= timesteps.length) {
            throw new IllegalStateException("DDIM step " + i + " taken out of order (expected " + counter + ")");
        }
        int t = (int) timesteps[i];
        int prevT = t - ratio;
        float a = alphasCumprod[t];
        float ap = prevT >= 0 ? alphasCumprod[prevT] : finalAlphaCumprod;
        float b = 1f - a;
        Tensor x0;
        Tensor eps;
        switch (config.predictionType()) {
            case "epsilon":
                x0 = x.sub(e.mul(new Scalar((double) (float) Math.sqrt(b)))).div(new Scalar((double) (float) Math.sqrt(a)));
                eps = e;
                break;
            case "sample":
                x0 = e;
                eps = x.sub(x0.mul(new Scalar((double) (float) Math.sqrt(a)))).div(new Scalar((double) (float) Math.sqrt(b)));
                break;
            default: // v_prediction
                x0 = x.mul(new Scalar((double) (float) Math.sqrt(a))).sub(e.mul(new Scalar((double) (float) Math.sqrt(b))));
                eps = e.mul(new Scalar((double) (float) Math.sqrt(a))).add(x.mul(new Scalar((double) (float) Math.sqrt(b))));
        }
        if (config.clipSample()) {
            double r = config.clipSampleRange();
            x0 = x0.clamp(new ScalarOptional(new Scalar(-r)), new ScalarOptional(new Scalar(r)));
        }
        Tensor direction = eps.mul(new Scalar((double) (float) Math.sqrt(1f - ap)));
        Tensor prev = x0.mul(new Scalar((double) (float) Math.sqrt(ap))).add(direction);
        counter++;
        return new StepOutput(prev, x0);
    }

    @Override
    public void close() {
        // stateless apart from the step counter
    }
}
