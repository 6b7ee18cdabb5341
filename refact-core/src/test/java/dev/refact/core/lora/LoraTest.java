package dev.refact.core.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.io.DType;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.io.SafetensorsWriter;
import dev.refact.clip.testing.SharedData;
import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LoRA export (kohya, PEFT) and import, on the tiny CLIP text encoder (32 wide, MLP 128, 3 layers). */
class LoraTest {
    private static final Path MODEL = SharedData.resolve("models/tiny-random-clip-text");
    private static final int D = 32;
    private static final int I = 128;

    private static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextGaussian() * 0.1);
        }
        return a;
    }

    /** A single edit file (refact.kind = edit) with metadata layer/weight and tensors u [I], r [D]. */
    static Path editFile(Path dir, String name, int layer, float[] u, float[] r) throws IOException {
        Path p = dir.resolve(name);
        new SafetensorsWriter().metadata("refact.kind", "edit").metadata("change_id", name)
                .metadata("layer", Integer.toString(layer)).metadata("weight", ClipTextModel.fc2WeightName(layer))
                .addFloats("u", u, u.length).addFloats("r", r, r.length).write(p);
        return p;
    }

    /** A joint edit file: u [n, I], r [n, D]. */
    static Path jointFile(Path dir, String name, int layer, float[][] u, float[][] r) throws IOException {
        Path p = dir.resolve(name);
        float[] uf = new float[u.length * I];
        float[] rf = new float[r.length * D];
        for (int i = 0; i < u.length; i++) {
            System.arraycopy(u[i], 0, uf, i * I, I);
            System.arraycopy(r[i], 0, rf, i * D, D);
        }
        new SafetensorsWriter().metadata("refact.kind", "joint_edit").metadata("layer", Integer.toString(layer))
                .metadata("weight", ClipTextModel.fc2WeightName(layer)).addFloats("u", uf, u.length, I)
                .addFloats("r", rf, r.length, D).write(p);
        return p;
    }

    /** Three edit files: a single and a 2-row joint edit at layer 1, a single edit at layer 2. */
    private static List<EditDelta> edits(Path dir) throws IOException {
        Random rnd = new Random(7);
        Path a = editFile(dir, "a.edit.safetensors", 1, random(rnd, I), random(rnd, D));
        Path b = jointFile(dir, "b.joint.safetensors", 1, new float[][] {random(rnd, I), random(rnd, I)},
                new float[][] {random(rnd, D), random(rnd, D)});
        Path c = editFile(dir, "c.edit.safetensors", 2, random(rnd, I), random(rnd, D));
        return List.of(EditDelta.read(a), EditDelta.read(b), EditDelta.read(c));
    }

    /** Σ r_i u_iᵀ over the edits of one weight, in double. */
    private static double[] sumDelta(List<EditDelta> edits, String weight) {
        double[] d = new double[D * I];
        for (EditDelta e : edits) {
            if (!e.weightName().equals(weight)) {
                continue;
            }
            for (int k = 0; k < e.rank(); k++) {
                float[] u = e.u(k);
                float[] r = e.r(k);
                for (int o = 0; o < D; o++) {
                    for (int i = 0; i < I; i++) {
                        d[o * I + i] += (double) r[o] * u[i];
                    }
                }
            }
        }
        return d;
    }

    private static double[] loraDelta(float[] up, float[] down, int k) {
        double[] d = new double[D * I];
        for (int o = 0; o < D; o++) {
            for (int j = 0; j < k; j++) {
                for (int i = 0; i < I; i++) {
                    d[o * I + i] += (double) up[o * k + j] * down[j * I + i];
                }
            }
        }
        return d;
    }

    private static float[] weight(ClipTextModel m, String name) {
        try (PointerScope scope = new PointerScope()) {
            return Tensors.toFloats(m.parameter(name));
        }
    }

    @Test
    void exportKohya_deltaEqualsEditsExactly_stacksRankPerLayer(@TempDir Path dir) throws IOException {
        List<EditDelta> edits = edits(dir);
        Path out = dir.resolve("edits.lora.safetensors");
        List<LoraExporter.Module> mods = LoraExporter.builder().build().write(edits, out);
        assertEquals(2, mods.size());
        assertEquals(3, mods.get(0).rank());
        assertEquals(1, mods.get(1).rank());
        try (SafetensorsFile sf = SafetensorsFile.open(out)) {
            String k1 = "lora_te_text_model_encoder_layers_1_mlp_fc2";
            assertArrayEquals(new long[] {3, I}, sf.info(k1 + ".lora_down.weight").shape());
            assertArrayEquals(new long[] {D, 3}, sf.info(k1 + ".lora_up.weight").shape());
            assertArrayEquals(new long[] {}, sf.info(k1 + ".alpha").shape());
            assertEquals(3f, sf.readFloats(k1 + ".alpha")[0]);
            assertEquals(1f, sf.readFloats("lora_te_text_model_encoder_layers_2_mlp_fc2.alpha")[0]);
            assertEquals("networks.lora", sf.metadata().get("ss_network_module"));
            assertEquals("3", sf.metadata().get("ss_network_dim"));
            assertEquals("3", sf.metadata().get("ss_network_alpha"));
            assertTrue(sf.metadata().get("refact.edits").contains("b.joint.safetensors"));
            assertArrayEquals(sumDelta(edits, ClipTextModel.fc2WeightName(1)),
                    loraDelta(sf.readFloats(k1 + ".lora_up.weight"), sf.readFloats(k1 + ".lora_down.weight"), 3));
            String k2 = "lora_te_text_model_encoder_layers_2_mlp_fc2";
            assertArrayEquals(sumDelta(edits, ClipTextModel.fc2WeightName(2)),
                    loraDelta(sf.readFloats(k2 + ".lora_up.weight"), sf.readFloats(k2 + ".lora_down.weight"), 1));
        }
    }

    @Test
    void exportPeft_sdxlEncoder2_namesAndUniformRank(@TempDir Path dir) throws IOException {
        List<EditDelta> edits = edits(dir);
        Path out = dir.resolve("peft.safetensors");
        LoraExporter.builder().format(LoraFormat.PEFT).encoder(2).build().write(edits, out);
        try (SafetensorsFile sf = SafetensorsFile.open(out)) {
            String k2 = "text_encoder_2.text_model.encoder.layers.2.mlp.fc2";
            // padded to the common rank 3 so that diffusers' lora_alpha = r gives scale 1 everywhere
            assertArrayEquals(new long[] {3, I}, sf.info(k2 + ".lora_A.weight").shape());
            assertArrayEquals(new long[] {D, 3}, sf.info(k2 + ".lora_B.weight").shape());
            assertFalse(sf.names().stream().anyMatch(n -> n.endsWith("alpha")));
            assertArrayEquals(sumDelta(edits, ClipTextModel.fc2WeightName(2)),
                    loraDelta(sf.readFloats(k2 + ".lora_B.weight"), sf.readFloats(k2 + ".lora_A.weight"), 3));
        }
        Path kohya = dir.resolve("te2.safetensors");
        LoraExporter.builder().encoder(2).build().write(edits, kohya);
        try (SafetensorsFile sf = SafetensorsFile.open(kohya)) {
            assertTrue(sf.contains("lora_te2_text_model_encoder_layers_1_mlp_fc2.lora_down.weight"));
        }
    }

    private static void assertAppliedLikeEdits(Path lora, List<EditDelta> edits, double tol) throws IOException {
        try (ClipTextModel edited = ClipTextModel.load(MODEL); ClipTextModel merged = ClipTextModel.load(MODEL)) {
            for (EditDelta e : edits) {
                for (int k = 0; k < e.rank(); k++) {
                    try (PointerScope scope = new PointerScope()) {
                        edited.applyRankOneUpdate(e.weightName(), Tensors.floats(e.r(k), edited.device(), D),
                                Tensors.floats(e.u(k), edited.device(), I), e.changeId() + "#" + k);
                    }
                }
            }
            LoraFile file = LoraFile.read(lora);
            List<LoraFile.Merged> m = file.apply(merged, 1, "lora");
            assertEquals(2, m.size());
            for (String name : merged.parameterNames()) {
                float[] want = weight(edited, name);
                float[] got = weight(merged, name);
                if (tol == 0 || name.equals(ClipTextModel.fc2WeightName(2)) && tol < 1e-6) {
                    assertArrayEquals(want, got, name); // rank 1: one product per element, bit-exact
                } else {
                    assertArrayEquals(want, got, (float) tol, name);
                }
            }
        }
    }

    @Test
    void applyKohya_f32_reproducesEditedWeights(@TempDir Path dir) throws IOException {
        List<EditDelta> edits = edits(dir);
        Path out = dir.resolve("k.safetensors");
        LoraExporter.builder().build().write(edits, out);
        // layer 1 (rank 3): one rounding of the sum of 3 products; layer 2 (rank 1) and the rest: bit-exact
        assertAppliedLikeEdits(out, edits, 1e-7);
    }

    @Test
    void applyPeft_f16_reproducesEditedWeightsWithinF16Rounding(@TempDir Path dir) throws IOException {
        List<EditDelta> edits = edits(dir);
        Path out = dir.resolve("p.safetensors");
        LoraExporter.builder().format(LoraFormat.PEFT).dtype(DType.F16).build().write(edits, out);
        try (SafetensorsFile sf = SafetensorsFile.open(out)) {
            assertEquals(DType.F16, sf.info("text_encoder.text_model.encoder.layers.1.mlp.fc2.lora_A.weight").dtype());
        }
        // factors ~0.1..0.3, products ~0.01-0.1: F16 relative error 2^-11 per factor
        assertAppliedLikeEdits(out, edits, 2e-4);
    }

    @Test
    void applyPeft_bf16_andKohyaBf16_readBack(@TempDir Path dir) throws IOException {
        List<EditDelta> edits = edits(dir);
        Path out = dir.resolve("b.safetensors");
        LoraExporter.builder().dtype(DType.BF16).build().write(edits, out);
        assertAppliedLikeEdits(out, edits, 2e-3);
    }

    @Test
    void apply_skipsUnetKeys_withReport(@TempDir Path dir) throws IOException {
        Random rnd = new Random(3);
        Path p = dir.resolve("mixed.safetensors");
        String k = "lora_te_text_model_encoder_layers_0_mlp_fc2";
        float[] down = random(rnd, 2 * I);
        float[] up = random(rnd, D * 2);
        new SafetensorsWriter()
                .addFloats(k + ".lora_down.weight", down, 2, I).addFloats(k + ".lora_up.weight", up, D, 2)
                .addFloats(k + ".alpha", new float[] {1f})
                .addFloats("lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight", random(rnd, 8), 2, 4)
                .addFloats("lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight", random(rnd, 8), 4, 2)
                .addFloats("lora_unet_down_blocks_0_attentions_0_proj_in.alpha", new float[] {2f})
                .write(p);
        assertTrue(LoraFile.isLora(p));
        LoraFile f = LoraFile.read(p);
        assertEquals(3, f.skipped().size());
        assertEquals("UNet", f.skipped().get(0).reason());
        assertEquals(1, f.modules().size());
        try (ClipTextModel m = ClipTextModel.load(MODEL)) {
            float[] before = weight(m, ClipTextModel.fc2WeightName(0));
            List<LoraFile.Merged> merged = f.apply(m, 1, "x");
            assertEquals(0.5, merged.get(0).scale());
            float[] after = weight(m, ClipTextModel.fc2WeightName(0));
            double[] want = loraDelta(up, down, 2);
            for (int i = 0; i < after.length; i++) {
                assertEquals(before[i] + 0.5 * want[i], after[i], 1e-6);
            }
        }
    }

    @Test
    void apply_wrongShape_refusedByName_modelUnchanged(@TempDir Path dir) throws IOException {
        Random rnd = new Random(5);
        Path p = dir.resolve("wrong.safetensors");
        String ok = "text_encoder.text_model.encoder.layers.0.mlp.fc2";
        String bad = "text_encoder.text_model.encoder.layers.1.mlp.fc2";
        new SafetensorsWriter()
                .addFloats(ok + ".lora_linear_layer.down.weight", random(rnd, I), 1, I)
                .addFloats(ok + ".lora_linear_layer.up.weight", random(rnd, D), D, 1)
                .addFloats(bad + ".lora_linear_layer.down.weight", random(rnd, 64), 1, 64)
                .addFloats(bad + ".lora_linear_layer.up.weight", random(rnd, D), D, 1)
                .write(p);
        LoraFile f = LoraFile.read(p);
        assertEquals(LoraFormat.DIFFUSERS_LEGACY, f.format());
        try (ClipTextModel m = ClipTextModel.load(MODEL)) {
            String fp = m.fingerprint();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.apply(m, 1, "x"));
            assertTrue(e.getMessage().contains("wrong.safetensors"), e.getMessage());
            assertTrue(e.getMessage().contains(bad), e.getMessage());
            assertTrue(e.getMessage().contains("[32, 128]"), e.getMessage());
            assertEquals(fp, m.fingerprint());
            assertTrue(m.changes().isEmpty());
        }
    }

    @Test
    void read_unknownModuleAndUnsupportedTensors_refusedByName(@TempDir Path dir) throws IOException {
        Path p = dir.resolve("odd.safetensors");
        new SafetensorsWriter()
                .addFloats("lora_te_text_model_encoder_layers_9_mlp_fc2.lora_down.weight", new float[I], 1, I)
                .addFloats("lora_te_text_model_encoder_layers_9_mlp_fc2.lora_up.weight", new float[D], D, 1)
                .write(p);
        try (ClipTextModel m = ClipTextModel.load(MODEL)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> LoraFile.read(p).apply(m, 1, "x"));
            assertTrue(e.getMessage().contains("lora_te_text_model_encoder_layers_9_mlp_fc2"), e.getMessage());
        }
        Path q = dir.resolve("loha.safetensors");
        new SafetensorsWriter().addFloats("lora_te_text_model_encoder_layers_0_mlp_fc2.hada_w1_a", new float[4], 2, 2)
                .write(q);
        IOException e = assertThrows(IOException.class, () -> LoraFile.read(q));
        assertTrue(e.getMessage().contains("hada_w1_a"), e.getMessage());
        Path r = dir.resolve("half.safetensors");
        new SafetensorsWriter().addFloats("lora_te_x.lora_down.weight", new float[4], 2, 2).write(r);
        e = assertThrows(IOException.class, () -> LoraFile.read(r));
        assertTrue(e.getMessage().contains("lora_te_x.lora_down.weight"), e.getMessage());
    }

    /** A single edit of layer 0 with seeded random u [I] and r [D]. */
    private static dev.refact.core.SavedEdit savedEdit(long seed) {
        Random rnd = new Random(seed);
        return new dev.refact.core.SavedEdit("cid", 0, ClipTextModel.fc2WeightName(0), random(rnd, I), random(rnd, D),
                "fp", dev.refact.core.EditRequest.of("a photo of a cat", "cat", "dog"), "{}",
                new dev.refact.core.EditProvenance("fp", "m", "none", "test", "test", "now"));
    }

    @Test
    void editDelta_ofSavedEdit_sameAsReadingItsFile_andExportsRankOne(@TempDir Path dir) throws IOException {
        dev.refact.core.SavedEdit saved = savedEdit(21);
        float[] u = saved.u();
        float[] r = saved.r();
        Path file = dir.resolve("s.edit.safetensors");
        saved.save(file);
        EditDelta fromFile = EditDelta.read(file);
        EditDelta fromRecord = EditDelta.of(saved);
        assertEquals("cid", fromFile.changeId());
        assertArrayEquals(fromRecord.u(0), fromFile.u(0));
        assertArrayEquals(fromRecord.r(0), fromFile.r(0));
        Path out = dir.resolve("l.safetensors");
        List<LoraExporter.Module> mods = LoraExporter.builder().build().write(List.of(fromRecord), out);
        assertEquals(List.of("cid"), mods.get(0).changeIds());
        try (SafetensorsFile sf = SafetensorsFile.open(out)) {
            assertArrayEquals(u, sf.readFloats("lora_te_text_model_encoder_layers_0_mlp_fc2.lora_down.weight"));
            assertArrayEquals(r, sf.readFloats("lora_te_text_model_encoder_layers_0_mlp_fc2.lora_up.weight"));
        }
    }

    @Test
    void editDelta_read_tamperedEditFile_refusedByItsChecksum(@TempDir Path dir) throws IOException {
        dev.refact.core.SavedEdit saved = savedEdit(22);
        Path file = dir.resolve("s.edit.safetensors");
        saved.save(file);
        Path tampered = dir.resolve("t.edit.safetensors");
        SafetensorsWriter w = new SafetensorsWriter();
        try (SafetensorsFile sf = SafetensorsFile.open(file)) {
            sf.metadata().forEach(w::metadata);
            float[] r2 = sf.readFloats("r");
            r2[3] += 1f;
            w.addFloats("u", sf.readFloats("u"), I).addFloats("r", r2, D);
        }
        w.write(tampered);
        IOException e = assertThrows(IOException.class, () -> EditDelta.read(tampered));
        assertTrue(e.getMessage().contains("t.edit.safetensors") && e.getMessage().contains("r_sha256"),
                e.getMessage());
    }

    @Test
    void editDelta_read_refusesOtherFiles(@TempDir Path dir) throws IOException {
        Path p = dir.resolve("stats.safetensors");
        new SafetensorsWriter().metadata("refact.kind", "stats").addFloats("c", new float[1], 1).write(p);
        IOException e = assertThrows(IOException.class, () -> EditDelta.read(p));
        assertTrue(e.getMessage().contains("refact.kind"), e.getMessage());
        Path q = dir.resolve("mixed.safetensors");
        new SafetensorsWriter().metadata("refact.kind", "joint_edit").metadata("layer", "1")
                .metadata("weight", ClipTextModel.fc2WeightName(1)).addFloats("u", new float[I], I)
                .addFloats("r", new float[2 * D], 2, D).write(q);
        e = assertThrows(IOException.class, () -> EditDelta.read(q));
        assertTrue(e.getMessage().contains("mixed.safetensors") && e.getMessage().contains("[2, 32]"), e.getMessage());
    }

    @Test
    void moduleKey_nameWithoutWeightSuffix_refusedNamingIt() {
        LoraExporter ex = LoraExporter.builder().build();
        assertEquals("lora_te_text_model_encoder_layers_7_mlp_fc2",
                ex.moduleKey("text_model.encoder.layers.7.mlp.fc2.weight"));
        for (String bad : new String[] {"fc2", "text_model.encoder.layers.7.mlp.fc2.bias", ".weight", ""}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ex.moduleKey(bad), bad);
            assertTrue(e.getMessage().contains("'" + bad + "'") && e.getMessage().contains(".weight"), e.getMessage());
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        }
    }

    @Test
    void module_rankZero_refusedAtConstructionAndRead(@TempDir Path dir) throws IOException {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new LoraFile.Module("m0",
                LoraFormat.KOHYA, 0, "m0", new float[0], new float[0], 0, I, D, 1.0));
        assertTrue(e.getMessage().contains("m0") && e.getMessage().contains("rank 0"), e.getMessage());
        Path p = dir.resolve("rank0.safetensors");
        new SafetensorsWriter()
                .addFloats("lora_te_text_model_encoder_layers_1_mlp_fc2.lora_down.weight", new float[0], 0, I)
                .addFloats("lora_te_text_model_encoder_layers_1_mlp_fc2.lora_up.weight", new float[0], D, 0)
                .write(p);
        IOException r = assertThrows(IOException.class, () -> LoraFile.read(p));
        assertTrue(r.getMessage().contains("rank0.safetensors")
                && r.getMessage().contains("lora_te_text_model_encoder_layers_1_mlp_fc2")
                && r.getMessage().contains("rank 0"), r.getMessage());
        assertEquals(1, r.getMessage().lines().count(), r.getMessage());
    }

    @Test
    void parse_unknownName_listsEveryAcceptedName() {
        assertEquals(LoraFormat.DIFFUSERS_LEGACY, LoraFormat.parse("Diffusers-Legacy"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LoraFormat.parse("lycoris"));
        assertTrue(e.getMessage().contains("lycoris") && e.getMessage().contains("kohya")
                && e.getMessage().contains("peft") && e.getMessage().contains("diffusers-legacy"), e.getMessage());
    }
}
