package dev.refact.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.refact.clip.ClipTextModel;
import dev.refact.clip.io.DType;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.io.SafetensorsWriter;
import dev.refact.clip.torch.Tensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** export-lora and apply with LoRA files, in-process on the tiny text encoder. */
final class LoraCommandsTest {
    @TempDir
    Path dir;

    private static final Path MODEL = StatsCommandTest.model();

    private static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextGaussian() * 0.1);
        }
        return a;
    }

    private Path editFile(String name, int layer, float[] u, float[] r) throws Exception {
        Path p = dir.resolve(name);
        new SafetensorsWriter().metadata("refact.kind", "edit").metadata("change_id", name)
                .metadata("layer", Integer.toString(layer)).metadata("weight", ClipTextModel.fc2WeightName(layer))
                .addFloats("u", u, u.length).addFloats("r", r, r.length).write(p);
        return p;
    }

    private static float[] weight(Path model, String name) throws Exception {
        try (ClipTextModel m = ClipTextModel.load(model); PointerScope scope = new PointerScope()) {
            return Tensors.toFloats(m.parameter(name));
        }
    }

    @Test
    void exportLora_thenApply_reproducesEditBitExactly() throws Exception {
        Random rnd = new Random(11);
        float[] u = random(rnd, 128);
        float[] r = random(rnd, 32);
        Path edit = editFile("a.edit.safetensors", 2, u, r);
        Path lora = dir.resolve("a.lora.safetensors");
        StatsCommandTest.Run x = StatsCommandTest.run("export-lora", "--edit", edit.toString(), "--out",
                lora.toString());
        assertEquals(0, x.code(), x.err());
        JsonObject s = JsonParser.parseString(x.out()).getAsJsonObject();
        assertEquals("kohya", s.get("format").getAsString());
        assertEquals("lora_te_text_model_encoder_layers_2_mlp_fc2",
                s.getAsJsonArray("modules").get(0).getAsJsonObject().get("key").getAsString());
        Path out = dir.resolve("applied");
        StatsCommandTest.Run a = StatsCommandTest.run("apply", "--model", MODEL.toString(), "--edit",
                lora.toString(), "--out", out.toString());
        assertEquals(0, a.code(), a.err());
        assertTrue(a.out().contains("\"lora_format\":\"kohya\""), a.out());
        float[] want;
        try (ClipTextModel m = ClipTextModel.load(MODEL); PointerScope scope = new PointerScope()) {
            m.applyRankOneUpdate(ClipTextModel.fc2WeightName(2), Tensors.floats(r, m.device(), 32),
                    Tensors.floats(u, m.device(), 128), "e");
            want = Tensors.toFloats(m.parameter(ClipTextModel.fc2WeightName(2)));
        }
        Path te = Files.isDirectory(out.resolve("text_encoder")) ? out.resolve("text_encoder") : out;
        assertArrayEquals(want, weight(te, ClipTextModel.fc2WeightName(2)));
        assertArrayEquals(weight(MODEL, ClipTextModel.fc2WeightName(1)), weight(te, ClipTextModel.fc2WeightName(1)));
    }

    @Test
    void exportLora_peftF16_encoder2_writesNamesAndDtype() throws Exception {
        Random rnd = new Random(12);
        Path a = editFile("a.edit.safetensors", 1, random(rnd, 128), random(rnd, 32));
        Path b = editFile("b.edit.safetensors", 1, random(rnd, 128), random(rnd, 32));
        Path lora = dir.resolve("p.safetensors");
        StatsCommandTest.Run x = StatsCommandTest.run("export-lora", "--edit", a.toString(), b.toString(),
                "--format", "peft", "--encoder", "2", "--dtype", "f16", "--out", lora.toString());
        assertEquals(0, x.code(), x.err());
        try (SafetensorsFile sf = SafetensorsFile.open(lora)) {
            String k = "text_encoder_2.text_model.encoder.layers.1.mlp.fc2";
            assertArrayEquals(new long[] {2, 128}, sf.info(k + ".lora_A.weight").shape());
            assertArrayEquals(new long[] {32, 2}, sf.info(k + ".lora_B.weight").shape());
            assertEquals(DType.F16, sf.info(k + ".lora_B.weight").dtype());
        }
    }

    @Test
    void exportLora_badOptions_usageErrorOneLine() throws Exception {
        Path a = editFile("a.edit.safetensors", 1, new float[128], new float[32]);
        StatsCommandTest.Run x = StatsCommandTest.run("export-lora", "--edit", a.toString(), "--format", "lycoris",
                "--out", dir.resolve("o.safetensors").toString());
        assertEquals(2, x.code());
        assertTrue(x.err().startsWith("refact: --format: unknown LoRA format 'lycoris'"), x.err());
        x = StatsCommandTest.run("export-lora", "--edit", a.toString(), "--dtype", "f8", "--out",
                dir.resolve("o.safetensors").toString());
        assertEquals(2, x.code());
        Path notEdit = Files.writeString(dir.resolve("x.safetensors"), "garbage");
        x = StatsCommandTest.run("export-lora", "--edit", notEdit.toString(), "--out",
                dir.resolve("o.safetensors").toString());
        assertEquals(1, x.code());
        assertEquals(1, x.err().strip().lines().count(), x.err());
        assertTrue(x.err().contains("x.safetensors"), x.err());
        assertFalse(Files.exists(dir.resolve("o.safetensors")));
        x = StatsCommandTest.run("export-lora", "--edit", a.toString(), a.toString(), "--out",
                dir.resolve("o.safetensors").toString());
        assertEquals(1, x.code());
        assertTrue(x.err().contains("given twice"), x.err());
        assertFalse(Files.exists(dir.resolve("o.safetensors")));
    }

    @Test
    void apply_loraWithUnetAndWrongShape_reportsSkipsAndRefusesByName() throws Exception {
        Random rnd = new Random(13);
        Path ok = dir.resolve("unet.safetensors");
        new SafetensorsWriter()
                .addFloats("lora_te_text_model_encoder_layers_0_mlp_fc2.lora_down.weight", random(rnd, 128), 1, 128)
                .addFloats("lora_te_text_model_encoder_layers_0_mlp_fc2.lora_up.weight", random(rnd, 32), 32, 1)
                .addFloats("lora_unet_mid_block_attentions_0_proj_in.lora_down.weight", random(rnd, 4), 1, 4)
                .addFloats("lora_unet_mid_block_attentions_0_proj_in.lora_up.weight", random(rnd, 4), 4, 1)
                .write(ok);
        StatsCommandTest.Run a = StatsCommandTest.run("apply", "--model", MODEL.toString(), "--edit", ok.toString(),
                "--out", dir.resolve("o1").toString());
        assertEquals(0, a.code(), a.err());
        assertTrue(a.err().contains("skipped 2 UNet tensors"), a.err());
        assertTrue(a.out().contains("\"skipped_unet\":2"), a.out());

        Path bad = dir.resolve("bad.safetensors");
        new SafetensorsWriter()
                .addFloats("text_encoder.text_model.encoder.layers.0.mlp.fc2.lora_A.weight", random(rnd, 64), 1, 64)
                .addFloats("text_encoder.text_model.encoder.layers.0.mlp.fc2.lora_B.weight", random(rnd, 32), 32, 1)
                .write(bad);
        StatsCommandTest.Run b = StatsCommandTest.run("apply", "--model", MODEL.toString(), "--edit", bad.toString(),
                "--out", dir.resolve("o2").toString());
        assertEquals(1, b.code());
        assertEquals(1, b.err().strip().lines().count(), b.err());
        assertTrue(b.err().contains("bad.safetensors") && b.err().contains("text_encoder.text_model.encoder.layers.0"
                + ".mlp.fc2") && b.err().contains("[32, 128]"), b.err());
        assertFalse(Files.exists(dir.resolve("o2")));
    }
}
