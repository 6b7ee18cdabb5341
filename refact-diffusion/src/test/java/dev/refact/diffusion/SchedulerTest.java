package dev.refact.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.torch.Tensors;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scheduler traces against diffusers v0.14 (5 steps, seeded sample and model outputs). Each trace
 * is chained through this port's own outputs, so errors accumulate as they would in a run.
 * Tolerances: timesteps exact; schedule 1e-6 relative; samples 1e-5 relative + 1e-5 absolute.
 */
final class SchedulerTest {
    private static Golden golden;
    private static SchedulerConfig config;

    @BeforeAll
    static void load() throws Exception {
        golden = new Golden();
        config = SchedulerConfig.read(Golden.component("scheduler/scheduler_config.json"));
    }

    @AfterAll
    static void close() throws Exception {
        golden.close();
    }

    @Test
    void read_sd14Config_equalsBuiltInDefault() {
        assertEquals(SchedulerConfig.stableDiffusion1(), config);
    }

    @Test
    void alphasCumprod_scaledLinear_matchesTorchFloat32() {
        Golden.check("sched.betas", golden.floats("sched.betas"), config.betas(), 1e-6, 0);
        Golden.check("sched.alphas_cumprod", golden.floats("sched.alphas_cumprod"), config.alphasCumprod(), 1e-6, 0);
    }

    @Test
    void pndm_fiveSteps_matchesTrace() {
        runTrace(SchedulerKind.PNDM, "sched.pndm.n5");
    }

    @Test
    void ddim_fiveSteps_matchesTrace() {
        runTrace(SchedulerKind.DDIM, "sched.ddim.n5");
    }

    @Test
    void euler_fiveSteps_matchesTraceSigmasAndScaledInputs() {
        try (Scheduler s = Scheduler.create(SchedulerKind.EULER, config, 5)) {
            Golden.check("sched.euler.n5.sigmas", golden.floats("sched.euler.n5.sigmas"),
                    ((EulerScheduler) s).sigmas(), 1e-6, 0);
            Golden.check("sched.euler.n5.init_noise_sigma", golden.floats("sched.euler.n5.init_noise_sigma"),
                    new float[] {(float) s.initNoiseSigma()}, 1e-6, 0);
        }
        runTrace(SchedulerKind.EULER, "sched.euler.n5");
    }

    @Test
    void timesteps_fourSteps_matchPipelineRuns() {
        for (String k : new String[] {"pndm", "ddim", "euler"}) {
            try (Scheduler s = Scheduler.create(SchedulerKind.parse(k), config, 4)) {
                assertArrayEquals(golden.doubles("e2e." + k + ".timesteps"), s.timesteps(), 0.0, k);
            }
        }
    }

    @Test
    void pndm_oneStep_singleCallToFinalAlpha() {
        try (Scheduler s = Scheduler.create(SchedulerKind.PNDM, config, 1)) {
            assertArrayEquals(new double[] {1}, s.timesteps(), 0.0);
        }
    }

    @Test
    void create_thousandStepsWithStepsOffset1_throwsNamingStepsOffsetAndMaximum() {
        for (SchedulerKind k : new SchedulerKind[] {SchedulerKind.PNDM, SchedulerKind.DDIM}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Scheduler.create(k, config, 1000));
            String m = e.getMessage();
            assertTrue(m.contains("steps 1000") && m.contains("steps_offset 1")
                    && m.contains("num_train_timesteps 1000") && m.contains("timestep 1000") && m.contains("999") && !m.contains("\n"), m);
        }
        try (Scheduler s = Scheduler.create(SchedulerKind.DDIM, config, 999)) {
            assertEquals(999.0, s.timesteps()[0], 0.0);
        }
        try (Scheduler s = Scheduler.create(SchedulerKind.PNDM, config, 999)) {
            assertEquals(999.0, s.timesteps()[0], 0.0);
        }
        try (Scheduler s = Scheduler.create(SchedulerKind.EULER, config, 1000)) { // Euler ignores steps_offset
            assertEquals(999.0, s.timesteps()[0], 0.0);
        }
    }

    @Test
    void create_largeStepsOffset_refusesEveryCountThatPassesTheLastTimestep() {
        SchedulerConfig c = new SchedulerConfig(1000, 0.00085, 0.012, "scaled_linear", true, false, 10, false, 1.0,
                "epsilon");
        // 100 steps: ratio 10, the first timestep 99·10 + 10 = 1000; 99 steps: ratio 10, 98·10 + 10 = 990
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Scheduler.create(SchedulerKind.DDIM, c, 100));
        assertTrue(e.getMessage().contains("largest step count <= 100 that fits is 99"), e.getMessage());
        try (Scheduler s = Scheduler.create(SchedulerKind.PNDM, c, 99)) {
            assertEquals(990.0, s.timesteps()[0], 0.0);
        }
        for (int steps = 1; steps <= 1000; steps++) { // every accepted count indexes alphas_cumprod in range
            for (SchedulerKind k : SchedulerKind.values()) {
                try (Scheduler s = Scheduler.create(k, c, steps)) {
                    for (double t : s.timesteps()) {
                        assertTrue(t >= 0 && t <= 999, k + " " + steps + ": " + t);
                    }
                } catch (IllegalArgumentException refused) {
                    assertTrue(k != SchedulerKind.EULER, refused.getMessage());
                }
            }
        }
    }

    @Test
    void schedulerConfig_negativeOrHugeStepsOffset_refused(@TempDir Path dir) throws Exception {
        assertThrows(IllegalArgumentException.class, () -> new SchedulerConfig(1000, 0.00085, 0.012, "scaled_linear",
                true, false, -1, false, 1.0, "epsilon"));
        assertThrows(IllegalArgumentException.class, () -> new SchedulerConfig(1000, 0.00085, 0.012, "scaled_linear",
                true, false, 1000, false, 1.0, "epsilon"));
        Path f = dir.resolve("scheduler_config.json");
        Files.writeString(f, "{\"steps_offset\": -1}");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> SchedulerConfig.read(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("steps_offset"), e.getMessage());
    }

    @Test
    void schedulerConfig_hugeTrainTimesteps_refusedBeforeAllocating(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("scheduler_config.json");
        Files.writeString(f, "{\"num_train_timesteps\": 2000000000}");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> SchedulerConfig.read(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("num_train_timesteps"),
                e.getMessage());
    }

    @Test
    void scaleModelInput_eulerStepIndexPastTheEnd_throwsNamingIndex() {
        try (PointerScope scope = new PointerScope(); Scheduler s = Scheduler.create(SchedulerKind.EULER, config, 5)) {
            Tensor x = golden.tensor("sched.euler.n5.sample_init");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.scaleModelInput(x, 5));
            assertTrue(e.getMessage().contains("step index 5"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> s.scaleModelInput(x, -1));
        }
    }

    @Test
    void pndm_oneStep_toStringSaysOneStep() {
        try (Scheduler s = Scheduler.create(SchedulerKind.PNDM, config, 1)) {
            assertEquals("PNDM(epsilon, 1 steps)", s.toString());
        }
    }

    @Test
    void step_outOfOrder_throws() {
        try (PointerScope scope = new PointerScope(); Scheduler s = Scheduler.create(SchedulerKind.DDIM, config, 5)) {
            Tensor x = golden.tensor("sched.ddim.n5.sample_init");
            assertThrows(IllegalStateException.class, () -> s.step(x, 1, x));
        }
    }

    @Test
    void read_unsupportedBetaSchedule_namesFileAndValue(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("scheduler_config.json");
        Files.writeString(f, "{\"beta_schedule\": \"sigmoid\"}");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> SchedulerConfig.read(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("sigmoid"), e.getMessage());
    }

    private static void runTrace(SchedulerKind kind, String prefix) {
        try (PointerScope scope = new PointerScope(); Scheduler s = Scheduler.create(kind, config, 5)) {
            double[] ts = golden.doubles(prefix + ".timesteps");
            assertArrayEquals(ts, s.timesteps(), 0.0, prefix + ".timesteps");
            Tensor sample = golden.tensor(prefix + ".sample_init").mul(new Scalar(s.initNoiseSigma()));
            boolean hasX0 = kind != SchedulerKind.PNDM;
            for (int i = 0; i < ts.length; i++) {
                if (kind == SchedulerKind.EULER) {
                    Golden.check(prefix + ".scaled_model_inputs[" + i + "]",
                            rowOf(prefix + ".scaled_model_inputs", i), Tensors.toFloats(s.scaleModelInput(sample, i)),
                            1e-5, 1e-5);
                }
                Tensor e = golden.slice(prefix + ".model_outputs", i, 1);
                Scheduler.StepOutput out = s.step(e, i, sample);
                Golden.check(prefix + ".prev_samples[" + i + "]", rowOf(prefix + ".prev_samples", i),
                        Tensors.toFloats(out.prevSample()), 1e-5, 1e-5);
                if (hasX0) {
                    Golden.check(prefix + ".pred_original_samples[" + i + "]",
                            rowOf(prefix + ".pred_original_samples", i), Tensors.toFloats(out.predOriginalSample()),
                            1e-5, 1e-5);
                }
                sample = out.prevSample();
            }
        }
    }

    private static float[] rowOf(String name, int i) {
        float[] all = golden.floats(name);
        int per = all.length / (int) golden.shape(name)[0];
        return java.util.Arrays.copyOfRange(all, i * per, (i + 1) * per);
    }
}
