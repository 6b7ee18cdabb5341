package dev.refact.core;

import static dev.refact.clip.testing.TensorAssertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.MlpTrace;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.testing.SharedData;
import dev.refact.clip.torch.Tensors;
import dev.refact.core.stats.CovarianceStats;
import dev.refact.core.stats.StatsProvenance;
import java.io.IOException;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The closed-form step against the independent reference edit in {@code tiny-random-clip-text/golden.safetensors}
 * (float64 u and r; float32 weights). Tolerances: u, r 1e-9 relative (both float64); weights 2e-7 absolute
 * (float32 rounding of W + r uᵀ with |W| ≲ 0.3).
 */
final class RankOneUpdateGoldenTest {
    @Test
    void compute_goldenInputs_matchesReferenceUAndRAndWeights() throws IOException {
        Path dir = SharedData.resolve("models/tiny-random-clip-text");
        try (SafetensorsFile g = SafetensorsFile.open(dir.resolve("golden.safetensors"));
             ClipTextModel model = ClipTextModel.load(dir);
             PointerScope scope = new PointerScope()) {
            Tensor c = Tensors.doubles(g.readDoubles("edit.C"), model.device(), 128, 128);
            StatsProvenance prov = new StatsProvenance("golden", 1, "golden-5-prompts", "", 38, "float64");
            try (CovarianceStats stats = CovarianceStats.fromMatrix(c, 1, 38, prov, model.device())) {
                Tensor k = Tensors.doubles(g.readDoubles("edit.k_star"), model.device(), 128);
                Tensor cur = Tensors.doubles(g.readDoubles("edit.cur_out"), model.device(), 32);
                Tensor target = Tensors.doubles(g.readDoubles("edit.target"), model.device(), 32);
                try (RankOneUpdate.Factors f = RankOneUpdate.compute(stats, k, k, cur, target)) {
                    assertAllClose(toFloats(g.readDoubles("edit.u")), Tensors.toFloats(f.u()), 1e-6, 1e-9, "u");
                    assertAllClose(toFloats(g.readDoubles("edit.right")), Tensors.toFloats(f.r()), 1e-6, 1e-9, "r");
                    double[] uRef = g.readDoubles("edit.u");
                    double[] uOurs = Tensors.toDoubles(f.u());
                    for (int i = 0; i < uRef.length; i++) {
                        assertEquals(uRef[i], uOurs[i], 1e-9 * Math.max(1, Math.abs(uRef[i])), "u[" + i + "] float64");
                    }
                    String name = ClipTextModel.fc2WeightName(1);
                    model.applyRankOneUpdate(name, f.r(), f.u(), "golden");
                    assertAllClose(g.readFloats("edit.fc2_weight_after"), model.parameter(name), 0, 2e-7, "fc2 after");
                }
            }
            // Our own keys at the golden's position equal the golden k* and cur_out (float32 forward).
            model.undo("golden");
            Tensor ids = Tensors.longs(g.readLongs("input_ids"), model.device(), 5, 77);
            try (MlpTrace t = model.traceMlp(ids.narrow(0, 0, 1), 1)) {
                assertAllClose(toFloats(g.readDoubles("edit.k_star")), t.key().select(0, 0).select(0, 5), 1e-5, 1e-5, "k*");
                assertAllClose(toFloats(g.readDoubles("edit.cur_out")), t.output().select(0, 0).select(0, 5), 1e-5, 1e-5,
                        "cur_out");
            }
        }
    }

    private static float[] toFloats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }
}
