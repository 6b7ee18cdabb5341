package dev.refact.diffusion;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * diffusers v0.14 {@code EulerDiscreteScheduler} without churn: timesteps
 * {@code linspace(0, T−1, N)} reversed (fractional; {@code steps_offset} is ignored), sigmas
 * {@code sqrt((1−a)/a)} interpolated linearly at those timesteps plus a final 0, initial noise
 * scaled by the largest training sigma, UNet input {@code x / sqrt(σ² + 1)}, and
 * {@code x0 = x − σ·e}, {@code x' = x + (x − x0)/σ · (σ_next − σ)}.
 */
final class EulerScheduler implements Scheduler {
    private final SchedulerConfig config;
    private final double[] timesteps;
    private final float[] sigmas; // N + 1, last 0
    private final float initNoiseSigma;
    private int counter;

    EulerScheduler(SchedulerConfig c, int steps) {
        this.config = c;
        float[] acp = c.alphasCumprod();
        int n = acp.length;
        float[] train = new float[n];
        float max = 0;
        for (int i = 0; i < n; i++) {
            train[i] = (float) Math.sqrt((1f - acp[i]) / acp[i]);
            max = Math.max(max, train[i]);
        }
        this.initNoiseSigma = max;
        this.timesteps = new double[steps];
        this.sigmas = new float[steps + 1];
        // np.linspace(0, T-1, N)[::-1]: k·step with step = (T-1)/(N-1), the endpoint exactly T-1
        double step = steps == 1 ? 0.0 : (n - 1) / (double) (steps - 1);
        for (int i = 0; i < steps; i++) {
            int k = steps - 1 - i;
            double t = steps > 1 && k == steps - 1 ? n - 1 : k * step;
            timesteps[i] = t;
            int lo = (int) Math.floor(t);
            int hi = Math.min(lo + 1, n - 1);
            double frac = t - lo;
            sigmas[i] = (float) (train[lo] + (train[hi] - (double) train[lo]) * frac);
        }
        sigmas[steps] = 0f;
    }

    @Override
    public SchedulerKind kind() {
        return SchedulerKind.EULER;
    }

    @Override
    public double[] timesteps() {
        return timesteps.clone();
    }

    /** Sigmas after set_timesteps: N + 1 values, the last 0. */
    float[] sigmas() {
        return sigmas.clone();
    }

    @Override
    public double initNoiseSigma() {
        return initNoiseSigma;
    }

    @Override
    public Tensor scaleModelInput(Tensor sample, int i) {
        if (i < 0 || i >= timesteps.length) {
            throw new IllegalArgumentException("Euler step index " + i + " is not in [0, " + timesteps.length + ")");
        }
        float s = sigmas[i];
        float denom = (float) Math.sqrt(s * s + 1f);
        return sample.div(new Scalar((double) denom));
    }

    @Override
    public StepOutput step(Tensor e, int i, Tensor x) {
        if (i != counter || i >= timesteps.length) {
            throw new IllegalStateException("Euler step " + i + " taken out of order (expected " + counter + ")");
        }
        float sigma = sigmas[i];
        Tensor x0;
        switch (config.predictionType()) {
            case "epsilon":
                x0 = x.sub(e.mul(new Scalar((double) sigma)));
                break;
            case "sample":
                x0 = e;
                break;
            default: { // v_prediction: x0 = e·(−σ/sqrt(σ²+1)) + x/(σ²+1)
                float s2 = sigma * sigma + 1f;
                x0 = e.mul(new Scalar((double) (-sigma / (float) Math.sqrt(s2)))).add(x.div(new Scalar((double) s2)));
            }
        }
        Tensor derivative = x.sub(x0).div(new Scalar((double) sigma));
        float dt = sigmas[i + 1] - sigma;
        Tensor prev = x.add(derivative.mul(new Scalar((double) dt)));
        counter++;
        return new StepOutput(prev, x0);
    }

    @Override
    public void close() {
        // stateless apart from the step counter
    }
}
