package dev.refact.diffusion;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * diffusers v0.14 {@code PNDMScheduler} with {@code skip_prk_steps=True} (the PLMS sampler SD
 * uses): linear multistep (Adams-Bashforth) on the noise predictions.
 *
 * <p>Timesteps: {@code ratio = T // N}, {@code base = arange(N)·ratio + steps_offset},
 * {@code reverse(base[:-1] ++ base[-2:-1] ++ base[-1:])}: N+1 calls for N ≥ 2, the second repeating
 * the first one's successor; for N = 1 both {@code base[:-1]} and {@code base[-2:-1]} are empty, so there is a
 * single call (at {@code steps_offset}), a plain step straight to the final alpha, as in diffusers. Call 0 is a
 * plain step that remembers its input sample; call 1 averages the two predictions and restarts from the
 * remembered sample (and is not added to the history); later calls combine the last 2, 3 or 4 predictions with
 * coefficients (3,−1)/2, (23,−16,5)/12, (55,−59,37,−9)/24. Update (PNDM paper eq. 9):
 * {@code x' = sqrt(a'/a)·x − (a' − a)·e / (a·sqrt(1−a') + sqrt(a·(1−a)·a'))}.
 */
final class PndmScheduler implements Scheduler {
    private final float[] alphasCumprod;
    private final float finalAlphaCumprod;
    private final int ratio;
    private final double[] timesteps;
    private final String predictionType;
    private final int steps;
    private final Deque<Tensor> ets = new ArrayDeque<>(); // newest first, at most 4
    private Tensor curSample;
    private int counter;

    PndmScheduler(SchedulerConfig c, int steps) {
        if (!c.skipPrkSteps()) {
            throw new IllegalArgumentException("PNDM with skip_prk_steps=false (Runge-Kutta warm-up) is not "
                    + "supported; Stable Diffusion configs set skip_prk_steps=true");
        }
        if (!c.predictionType().equals("epsilon")) {
            throw new IllegalArgumentException("PNDM supports prediction_type epsilon only, got "
                    + c.predictionType());
        }
        this.predictionType = c.predictionType();
        this.steps = steps;
        this.alphasCumprod = c.alphasCumprod();
        this.finalAlphaCumprod = c.setAlphaToOne() ? 1.0f : alphasCumprod[0];
        this.ratio = c.numTrainTimesteps() / steps;
        long[] base = new long[steps];
        for (int i = 0; i < steps; i++) {
            base[i] = (long) i * ratio + c.stepsOffset();
        }
        // plms = base[:-1] ++ base[-2:-1] ++ base[-1:], reversed
        long[] plms = new long[steps + 1];
        System.arraycopy(base, 0, plms, 0, steps - 1);
        plms[steps - 1] = steps >= 2 ? base[steps - 2] : base[0];
        plms[steps] = base[steps - 1];
        if (steps == 1) {
            plms = new long[] {base[0]};
        }
        timesteps = new double[plms.length];
        for (int i = 0; i < plms.length; i++) {
            timesteps[i] = plms[plms.length - 1 - i];
        }
    }

    @Override
    public SchedulerKind kind() {
        return SchedulerKind.PNDM;
    }

    @Override
    public double[] timesteps() {
        return timesteps.clone();
    }

    @Override
    public StepOutput step(Tensor modelOutput, int i, Tensor sample) {
        if (i != counter || i >= timesteps.length) {
            throw new IllegalStateException("PNDM step " + i + " taken out of order (expected " + counter + " of "
                    + timesteps.length + ")");
        }
        int timestep = (int) timesteps[i];
        int prevTimestep = timestep - ratio;
        Tensor x = sample;
        if (counter != 1) {
            remember(modelOutput);
        } else {
            prevTimestep = timestep;
            timestep = timestep + ratio;
        }
        Tensor e;
        if (ets.size() == 1 && counter == 0) {
            e = modelOutput;
            curSample = retained(sample);
        } else if (ets.size() == 1 && counter == 1) {
            e = modelOutput.add(ets.peekFirst()).div(new Scalar(2.0));
            x = curSample;
            // the remembered sample is handed back to the current scope, which frees it
            dev.refact.clip.torch.Tensors.handOff(curSample);
            curSample = null;
        } else {
            Iterator<Tensor> it = ets.iterator();
            Tensor e1 = it.next();
            Tensor e2 = it.next();
            if (ets.size() == 2) {
                e = e1.mul(new Scalar(3L)).sub(e2).div(new Scalar(2.0));
            } else if (ets.size() == 3) {
                Tensor e3 = it.next();
                e = e1.mul(new Scalar(23L)).sub(e2.mul(new Scalar(16L))).add(e3.mul(new Scalar(5L)))
                        .div(new Scalar(12.0));
            } else {
                Tensor e3 = it.next();
                Tensor e4 = it.next();
                e = e1.mul(new Scalar(55L)).sub(e2.mul(new Scalar(59L))).add(e3.mul(new Scalar(37L)))
                        .sub(e4.mul(new Scalar(9L))).mul(new Scalar(1.0 / 24.0));
            }
        }
        Tensor prev = prevSample(x, timestep, prevTimestep, e);
        counter++;
        return new StepOutput(prev, null);
    }

    /** PNDM eq. (9) with float32 scalar arithmetic, as diffusers does on 0-d float32 tensors. */
    private Tensor prevSample(Tensor x, int t, int prevT, Tensor e) {
        float a = alphasCumprod[t];
        float ap = prevT >= 0 ? alphasCumprod[prevT] : finalAlphaCumprod;
        float b = 1f - a;
        float bp = 1f - ap;
        float sampleCoeff = (float) Math.sqrt(ap / a);
        float denom = a * (float) Math.sqrt(bp) + (float) Math.sqrt(a * b * ap);
        return x.mul(new Scalar((double) sampleCoeff))
                .sub(e.mul(new Scalar((double) (ap - a))).div(new Scalar((double) denom)));
    }

    private void remember(Tensor modelOutput) {
        ets.addFirst(retained(modelOutput));
        if (ets.size() > 4) {
            ets.removeLast().close();
        }
    }

    private static Tensor retained(Tensor t) {
        t.retainReference();
        return t;
    }

    @Override
    public void close() {
        ets.forEach(Tensor::close);
        ets.clear();
        if (curSample != null) {
            curSample.close();
            curSample = null;
        }
    }

    @Override
    public String toString() {
        return "PNDM(" + predictionType + ", " + steps + " steps)";
    }
}
