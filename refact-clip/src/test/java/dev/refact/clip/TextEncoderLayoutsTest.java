package dev.refact.clip;

import static dev.refact.clip.testing.CheckpointFixtures.addUnrelated;
import static dev.refact.clip.testing.CheckpointFixtures.cast;
import static dev.refact.clip.testing.CheckpointFixtures.configBeside;
import static dev.refact.clip.testing.CheckpointFixtures.ldmClip;
import static dev.refact.clip.testing.CheckpointFixtures.openClip;
import static dev.refact.clip.testing.CheckpointFixtures.readHf;
import static dev.refact.clip.testing.CheckpointFixtures.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.testing.CheckpointFixtures;
import dev.refact.clip.testing.SharedData;
import dev.refact.clip.testing.TensorAssertions;
import dev.refact.clip.tokenizer.Padding;
import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every supported checkpoint layout encodes exactly like the equivalent diffusers folder. */
final class TextEncoderLayoutsTest {
    static final Path TINY = CheckpointFixtures.tinyText();
    static final Path TINY_FULL = SharedData.resolve("models/tiny-clip-full");
    static final long[] IDS = {49406, 320, 1125, 539, 320, 2368, 49407, 49407, 49406, 320, 2368, 49407, 0, 0};

    /** Ids for the 600-token generated models (legacy pooling: at the largest id, 599). */
    static final long[] SMALL_IDS = {1, 20, 300, 41, 599, 0, 0, 1, 7, 599, 2, 2, 2, 2};

    @TempDir
    Path tmp;

    /** Asserts the two models give the same outputs: bitwise with {@code tol == 0}, else within tol. */
    static void assertSameEncoding(ClipTextModel expected, ClipTextModel actual, double tol) {
        assertSameEncoding(expected, actual, tol, IDS);
    }

    static void assertSameEncoding(ClipTextModel expected, ClipTextModel actual, double tol, long[] idRows) {
        try (PointerScope scope = new PointerScope()) {
            Tensor ids = Tensors.longs(idRows, expected.device(), 2, 7);
            try (TextEncoding a = expected.encode(ids, true); TextEncoding b = actual.encode(ids, true)) {
                compare(a.lastHiddenState(), b.lastHiddenState(), tol, "last hidden state");
                compare(a.pooled(), b.pooled(), tol, "pooled");
                assertEquals(a.hiddenStates().size(), b.hiddenStates().size(), "number of hidden states");
                if (a.textEmbeds() != null && b.textEmbeds() != null) {
                    compare(a.textEmbeds(), b.textEmbeds(), tol, "text embeds");
                }
            }
        }
    }

    private static void compare(Tensor a, Tensor b, double tol, String what) {
        if (tol == 0) {
            assertArrayEquals(Tensors.toFloats(a), Tensors.toFloats(b), what);
        } else {
            TensorAssertions.assertAllClose(a, b, tol, tol, what);
        }
    }

    private Path sd1File(String name, ScalarType dtype, boolean infix, ScalarType positionIds) throws IOException {
        Map<String, Tensor> t = new LinkedHashMap<>();
        addUnrelated(t);
        t.putAll(cast(ldmClip(readHf(TINY.resolve("model.safetensors")), TextEncoderCheckpoint.SD1_PREFIX, infix,
                positionIds), dtype));
        Path f = write(t, Map.of("modelspec.title", "tiny sd1"), tmp.resolve(name).resolve("model-sd1.safetensors"));
        configBeside(f, TINY);
        return f;
    }

    private Path sd2File(String name, ScalarType dtype) throws IOException {
        Map<String, Tensor> t = new LinkedHashMap<>();
        addUnrelated(t);
        t.putAll(cast(openClip(readHf(TINY.resolve("model.safetensors")), TextEncoderCheckpoint.SD2_PREFIX, true),
                dtype));
        Path f = write(t, Map.of(), tmp.resolve(name).resolve("v2.safetensors"));
        configBeside(f, TINY);
        return f;
    }

    private Path sdxlFile(String name) throws IOException {
        Map<String, Tensor> t = new LinkedHashMap<>();
        addUnrelated(t);
        t.putAll(ldmClip(readHf(TINY.resolve("model.safetensors")), TextEncoderCheckpoint.SDXL1_PREFIX, true,
                ScalarType.Long));
        t.putAll(openClip(readHf(TINY_FULL.resolve("model.safetensors")), TextEncoderCheckpoint.SDXL2_PREFIX, false));
        Path f = write(t, Map.of(), tmp.resolve(name).resolve("xl.safetensors"));
        configBeside(f, TINY);
        return f;
    }

    @Test
    void load_sd1SingleFile_encodesBitwiseLikeDiffusersFolder() throws IOException {
        try (PointerScope scope = new PointerScope()) {
            Path withInfix = sd1File("a", ScalarType.Float, true, ScalarType.Long);
            Path noInfix = sd1File("b", ScalarType.Float, false, ScalarType.Float);
            try (ClipTextModel ref = ClipTextModel.load(TINY); ClipTextModel a = ClipTextModel.load(withInfix);
                 ClipTextModel b = ClipTextModel.load(noInfix)) {
                assertSameEncoding(ref, a, 0);
                assertSameEncoding(ref, b, 0);
                assertEquals(TextEncoderFamily.SD1, a.family());
                assertFalse(a.hasProjection(), "SD 1.x single files carry no projection");
                assertEquals(Padding.END_TOKEN, a.family().padding());
            }
        }
    }

    @Test
    void load_sd1HalfAndBf16_equalSameDtypeFolderBitwise_andFloatFolderWithinTolerance() throws IOException {
        for (ScalarType dt : new ScalarType[] {ScalarType.Half, ScalarType.BFloat16}) {
            try (PointerScope scope = new PointerScope()) {
                Path file = sd1File("x" + dt, dt, true, ScalarType.Long);
                Path folder = tmp.resolve("folder" + dt);
                Map<String, Tensor> hf = cast(readHf(TINY.resolve("model.safetensors")), dt);
                write(hf, Map.of(), folder.resolve("model.safetensors"));
                Files.copy(TINY.resolve("config.json"), folder.resolve("config.json"));
                try (ClipTextModel ref = ClipTextModel.load(TINY); ClipTextModel sameDtype = ClipTextModel.load(folder);
                     ClipTextModel single = ClipTextModel.load(file)) {
                    assertSameEncoding(sameDtype, single, 0);
                    assertSameEncoding(ref, single, dt == ScalarType.Half ? 2e-2 : 1e-1);
                }
            }
        }
    }

    @Test
    void load_sd2SingleFile_dropsLastBlock_andEncodesLikeFolder() throws IOException {
        try (PointerScope scope = new PointerScope()) {
            Path f = sd2File("sd2", ScalarType.Float);
            try (ClipTextModel ref = ClipTextModel.load(TINY); ClipTextModel m = ClipTextModel.load(f)) {
                assertEquals(3, m.config().numHiddenLayers(), "4 blocks stored, the last is not used");
                assertEquals(TextEncoderFamily.SD2, m.family());
                assertEquals(Padding.ZERO, m.family().padding());
                assertFalse(m.hasProjection(), "SD 2.x conditions on hidden states; diffusers drops text_projection");
                assertSameEncoding(ref, m, 0);
                assertTrue(m.source().endsWith("v2.safetensors"));
            }
        }
    }

    @Test
    void load_singleFiles_haveTheFingerprintOfTheEquivalentFolder() throws IOException {
        try (PointerScope scope = new PointerScope()) {
            Map<String, Tensor> hf = readHf(TINY.resolve("model.safetensors"));
            hf.remove("text_projection.weight");
            Path folder = tmp.resolve("noproj");
            write(hf, Map.of(), folder.resolve("model.safetensors"));
            Files.copy(TINY.resolve("config.json"), folder.resolve("config.json"));
            try (ClipTextModel ref = ClipTextModel.load(folder);
                 ClipTextModel a = ClipTextModel.load(sd1File("fa", ScalarType.Float, false, ScalarType.Long));
                 ClipTextModel b = ClipTextModel.load(sd2File("fb", ScalarType.Float))) {
                assertEquals(ref.parameterNames(), a.parameterNames());
                assertEquals(ref.parameterNames(), b.parameterNames());
                assertEquals(ref.baseFingerprint(), a.baseFingerprint(), "SD 1.x single file");
                assertEquals(ref.baseFingerprint(), b.baseFingerprint(), "SD 2.x single file");
            }
        }
    }

    @Test
    void load_sd2Bf16SingleFile_closeToFloatFolder() throws IOException {
        try (PointerScope scope = new PointerScope()) {
            Path f = sd2File("sd2b", ScalarType.BFloat16);
            try (ClipTextModel ref = ClipTextModel.load(TINY); ClipTextModel m = ClipTextModel.load(f)) {
                assertSameEncoding(ref, m, 1e-1);
            }
        }
    }

    @Test
    void load_sdxlSingleFile_bothEncodersLikeTheirFolders() throws IOException {
        try (PointerScope scope = new PointerScope()) {
            Path f = sdxlFile("xl");
            try (ClipTextModel ref1 = ClipTextModel.load(TINY); ClipTextModel ref2 = ClipTextModel.load(TINY_FULL);
                 ClipTextModel e1 = ClipTextModel.load(f, 1, ref1.device(), ScalarType.Float);
                 ClipTextModel e2 = ClipTextModel.load(f, 2, ref1.device(), ScalarType.Float)) {
                assertSameEncoding(ref1, e1, 0);
                assertSameEncoding(ref2, e2, 0);
                assertEquals(3, e2.config().numHiddenLayers(), "SDXL encoder 2 keeps every block");
                assertTrue(e2.hasProjection());
                assertEquals(16, e2.representationDim());
                assertEquals(TextEncoderFamily.SDXL_1, e1.family());
                assertEquals(TextEncoderFamily.SDXL_2, e2.family());
                Tensor ids = Tensors.longs(IDS, e1.device(), 2, 7);
                try (TextEncoding a = e1.encode(ids, true); TextEncoding b = e2.encode(ids, true)) {
                    Tensor cond = SdxlConditioning.promptEmbeds(a, b);
                    assertArrayEquals(new long[] {2, 7, 64}, Tensors.shape(cond));
                    // hidden_states[-2]: output of the second-to-last layer, before the final LayerNorm
                    assertArrayEquals(Tensors.toFloats(a.hiddenStates().get(2)),
                            Tensors.toFloats(cond.narrow(2, 0, 32).contiguous()));
                    assertArrayEquals(Tensors.toFloats(b.hiddenStates().get(2)),
                            Tensors.toFloats(cond.narrow(2, 32, 32).contiguous()));
                    assertArrayEquals(Tensors.toFloats(b.textEmbeds()),
                            Tensors.toFloats(SdxlConditioning.pooledPromptEmbeds(b)));
                }
            }
        }
    }

    @Test
    void load_sdxlRefinerSingleFile_isEncoder2_byEitherIndex_andWritesBack() throws IOException {
        try (PointerScope scope = new PointerScope()) {
            // the refiner holds only SDXL's encoder 2, at embedder 0 (sgm layout), beside its UNet
            Map<String, Tensor> t = new LinkedHashMap<>();
            addUnrelated(t);
            t.putAll(openClip(readHf(TINY_FULL.resolve("model.safetensors")),
                    TextEncoderCheckpoint.SGM0_OPENCLIP_PREFIX, false));
            Path f = write(t, Map.of(), tmp.resolve("refiner").resolve("refiner.safetensors"));
            configBeside(f, TINY_FULL);                    // tiny widths: heads cannot be inferred from shapes
            Path xl = sdxlFile("xl-for-refiner");
            try (ClipTextModel ref2 = ClipTextModel.load(TINY_FULL);
                 ClipTextModel base2 = ClipTextModel.load(xl, 2, ref2.device(), ScalarType.Float);
                 ClipTextModel r1 = ClipTextModel.load(f, 1, ref2.device(), ScalarType.Float);
                 ClipTextModel r2 = ClipTextModel.load(f, 2, ref2.device(), ScalarType.Float)) {
                assertSameEncoding(ref2, r1, 0);
                assertSameEncoding(ref2, r2, 0);
                assertEquals(TextEncoderFamily.SDXL_2, r1.family());
                assertTrue(r1.hasProjection());
                assertEquals(3, r1.config().numHiddenLayers(), "every block, as SDXL's encoder 2");
                assertEquals(base2.fingerprint(), r1.fingerprint(), "the same weights as the base's encoder 2");
                // an edit of the refiner's encoder goes back into its own file, other tensors untouched
                String fc2 = ClipTextModel.fc2WeightName(1);
                try (Tensor delta = r1.parameter(fc2).mul(new org.bytedeco.pytorch.Scalar(0.5))) {
                    r1.replaceParameter(fc2, r1.parameter(fc2).add(delta), "test-change");
                }
                Path out = tmp.resolve("refiner").resolve("refiner-edited.safetensors");
                r1.save(out);
                try (ClipTextModel back = ClipTextModel.load(out, 2, ref2.device(), ScalarType.Float);
                     dev.refact.clip.io.SafetensorsFile in = dev.refact.clip.io.SafetensorsFile.open(f);
                     dev.refact.clip.io.SafetensorsFile edited = dev.refact.clip.io.SafetensorsFile.open(out)) {
                    assertEquals(r1.fingerprint(), back.fingerprint());
                    assertEquals(in.names(), edited.names(), "same tensors, same order");
                    String cProj = TextEncoderCheckpoint.SGM0_OPENCLIP_PREFIX + "transformer.resblocks.1.mlp.c_proj.weight";
                    assertFalse(java.util.Arrays.equals(in.readFloats(cProj), edited.readFloats(cProj)));
                    String other = TextEncoderCheckpoint.SGM0_OPENCLIP_PREFIX + "transformer.resblocks.0.mlp.c_proj.weight";
                    assertArrayEquals(in.readFloats(other), edited.readFloats(other));
                }
            }
        }
    }

    @Test
    void load_sd2InSgmLayout_width1024_isSd2WithoutItsLastBlock() throws IOException {
        // embedder 0 in sgm layout at ViT-H's width 1024 is an SD 2.x model, not a refiner: the SD 2.x rules apply
        // (penultimate block, no projection). A narrow random tower (3 blocks + the extra last one SD 2.x drops,
        // MLP 64, vocab 500): ~40 MB.
        ClipTextConfig cfg = new ClipTextConfig(1024, 64, 3, 16, 77, 500, "gelu", 1e-5, 0, 0, 2);
        Path folder = tmp.resolve("vith-folder");
        try (ClipTextModel m = ClipTextModel.random(cfg, 11, false)) {
            m.save(folder);
        }
        try (PointerScope scope = new PointerScope()) {
            Map<String, Tensor> t = new LinkedHashMap<>();
            addUnrelated(t);
            t.putAll(openClip(readHf(folder.resolve("model.safetensors")), TextEncoderCheckpoint.SGM0_OPENCLIP_PREFIX,
                    true));
            Path f = write(t, Map.of(), tmp.resolve("sgm-sd2").resolve("v2-sgm.safetensors"));
            try (ClipTextModel m = ClipTextModel.load(f); ClipTextModel ref = ClipTextModel.load(folder)) {
                assertEquals(TextEncoderFamily.SD2, m.family());
                assertEquals(3, m.config().numHiddenLayers(), "built without the last (4th) block");
                assertEquals(ref.fingerprint(), m.fingerprint(), "the folder's weights, the extra block dropped");
                assertEquals(16, m.config().numAttentionHeads(), "heads = width / 64");
                assertFalse(m.hasProjection());
            }
            CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                    () -> ClipTextModel.load(f, 2, Tensors.cpu(), ScalarType.Float));
            assertTrue(e.getMessage().contains("sgm layout"), e.getMessage());
        }
    }

    @Test
    void load_sdxlDiffusersRoot_encoder2UsesTextEncoder2() throws IOException {
        try (PointerScope scope = new PointerScope()) {
            Path root = tmp.resolve("xlroot");
            try (ClipTextModel a = ClipTextModel.load(TINY); ClipTextModel b = ClipTextModel.load(TINY_FULL)) {
                a.save(root.resolve("text_encoder"));
                b.save(root.resolve("text_encoder_2"));
            }
            try (ClipTextModel ref2 = ClipTextModel.load(TINY_FULL);
                 ClipTextModel e1 = ClipTextModel.load(root);
                 ClipTextModel e2 = ClipTextModel.load(root, 2, ref2.device(), ScalarType.Float)) {
                assertSameEncoding(ref2, e2, 0);
                assertEquals(TextEncoderFamily.SDXL_1, e1.family());
                assertEquals(TextEncoderFamily.SDXL_2, e2.family());
            }
            CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                    () -> TextEncoderFamily.detect(TINY, 2));
            assertTrue(e.getMessage().contains("--encoder 2"), e.getMessage());
        }
    }

    @Test
    void load_withoutConfig_infersShapesPerFamily() throws IOException {
        try (PointerScope scope = new PointerScope()) {
            ClipTextConfig quick = new ClipTextConfig(128, 256, 2, 2, 20, 600, "quick_gelu", 1e-5, 0, 1, 2);
            ClipTextConfig gelu = new ClipTextConfig(128, 320, 3, 2, 20, 600, "gelu", 1e-5, 64, 1, 2);
            Path q = tmp.resolve("q");
            Path g = tmp.resolve("g");
            try (ClipTextModel mq = ClipTextModel.random(quick, 5, false);
                 ClipTextModel mg = ClipTextModel.random(gelu, 6, true)) {
                mq.save(q);
                mg.save(g);
            }
            Map<String, Tensor> sd1 = ldmClip(readHf(q.resolve("model.safetensors")), TextEncoderCheckpoint.SD1_PREFIX,
                    false, ScalarType.Long);
            Path sd1File = write(sd1, Map.of(), tmp.resolve("inf1").resolve("sd1.safetensors"));
            Map<String, Tensor> sd2 = openClip(readHf(g.resolve("model.safetensors")), TextEncoderCheckpoint.SD2_PREFIX,
                    true);
            Path sd2File = write(sd2, Map.of(), tmp.resolve("inf2").resolve("sd2.safetensors"));
            Map<String, Tensor> xl = new LinkedHashMap<>(ldmClip(readHf(q.resolve("model.safetensors")),
                    TextEncoderCheckpoint.SDXL1_PREFIX, true, null));
            xl.putAll(openClip(readHf(g.resolve("model.safetensors")), TextEncoderCheckpoint.SDXL2_PREFIX, false));
            Path xlFile = write(xl, Map.of(), tmp.resolve("inf3").resolve("xl.safetensors"));
            try (ClipTextModel a = ClipTextModel.load(sd1File); ClipTextModel refQ = ClipTextModel.load(q)) {
                ClipTextConfig c = a.config();
                assertEquals(java.util.List.of(128, 256, 2, 2, 20, 600, "quick_gelu", 0), java.util.List.of(
                        c.hiddenSize(), c.intermediateSize(), c.numHiddenLayers(), c.numAttentionHeads(),
                        c.maxPositionEmbeddings(), c.vocabSize(), c.hiddenAct(), c.projectionDim()));
                assertSameEncoding(refQ, a, 0, SMALL_IDS);
            }
            try (ClipTextModel b = ClipTextModel.load(sd2File); ClipTextModel refG = ClipTextModel.load(g)) {
                ClipTextConfig c = b.config();
                assertEquals(java.util.List.of(128, 320, 3, 2, "gelu", 0), java.util.List.of(c.hiddenSize(),
                        c.intermediateSize(), c.numHiddenLayers(), c.numAttentionHeads(), c.hiddenAct(),
                        c.projectionDim()), "4 blocks stored, 3 used (penultimate), heads = 128 / 64");
                try (PointerScope s2 = new PointerScope()) {
                    Tensor ids = Tensors.longs(SMALL_IDS, b.device(), 2, 7);
                    try (TextEncoding x = refG.encode(ids); TextEncoding y = b.encode(ids)) {
                        assertArrayEquals(Tensors.toFloats(x.lastHiddenState()), Tensors.toFloats(y.lastHiddenState()));
                    }
                }
            }
            try (ClipTextModel refG = ClipTextModel.load(g);
                 ClipTextModel e2 = ClipTextModel.load(xlFile, 2, refG.device(), ScalarType.Float)) {
                assertEquals(64, e2.config().projectionDim());
                assertEquals(3, e2.config().numHiddenLayers());
                assertSameEncoding(refG, e2, 0, SMALL_IDS);
            }
        }
    }

    @Test
    void load_badLayouts_nameTheKeys() throws IOException {
        try (PointerScope scope = new PointerScope()) {
            Map<String, Tensor> hf = readHf(TINY.resolve("model.safetensors"));
            Map<String, Tensor> sd1 = ldmClip(hf, TextEncoderCheckpoint.SD1_PREFIX, true, ScalarType.Long);
            String missing = TextEncoderCheckpoint.SD1_PREFIX + "text_model.encoder.layers.1.mlp.fc1.bias";
            sd1.remove(missing);
            String extra = TextEncoderCheckpoint.SD1_PREFIX + "text_model.encoder.layers.0.mlp.fc3.weight";
            sd1.put(extra, hf.get("text_model.final_layer_norm.bias"));
            Path f = write(sd1, Map.of(), tmp.resolve("bad1").resolve("bad.safetensors"));
            configBeside(f, TINY);
            CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> ClipTextModel.load(f));
            assertTrue(e.getMessage().contains("bad.safetensors"), e.getMessage());
            assertTrue(e.getMessage().contains("missing tensor '" + missing + "'"), e.getMessage());
            assertTrue(e.getMessage().contains(extra), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), "one line");

            Map<String, Tensor> sd2 = openClip(hf, TextEncoderCheckpoint.SD2_PREFIX, true);
            String inProj = TextEncoderCheckpoint.SD2_PREFIX + "transformer.resblocks.1.attn.in_proj_weight";
            sd2.remove(inProj);
            Path f2 = write(sd2, Map.of(), tmp.resolve("bad2").resolve("bad2.safetensors"));
            configBeside(f2, TINY);
            CheckpointFormatException e2 = assertThrows(CheckpointFormatException.class, () -> ClipTextModel.load(f2));
            assertTrue(e2.getMessage().contains("missing tensor '" + inProj + "'"), e2.getMessage());

            Map<String, Tensor> unet = new LinkedHashMap<>();
            addUnrelated(unet);
            Path f3 = write(unet, Map.of(), tmp.resolve("bad3").resolve("unet-only.safetensors"));
            CheckpointFormatException e3 = assertThrows(CheckpointFormatException.class, () -> ClipTextModel.load(f3));
            assertTrue(e3.getMessage().contains("no text encoder found") && e3.getMessage().contains("cond_stage_model"),
                    e3.getMessage());

            Map<String, Tensor> noCfg = ldmClip(hf, TextEncoderCheckpoint.SD1_PREFIX, true, null);
            Path f4 = write(noCfg, Map.of(), tmp.resolve("bad4").resolve("narrow.safetensors"));
            CheckpointFormatException e4 = assertThrows(CheckpointFormatException.class, () -> ClipTextModel.load(f4));
            assertTrue(e4.getMessage().contains("not a multiple of 64"), e4.getMessage());

            Path sd1Only = sd1File("one", ScalarType.Float, true, null);
            CheckpointFormatException e5 = assertThrows(CheckpointFormatException.class,
                    () -> TextEncoderFamily.detect(sd1Only, 2));
            assertTrue(e5.getMessage().contains("SD 1.x"), e5.getMessage());
        }
    }

    @Test
    void random_sd2AndSdxlShapes_haveTheirFamiliesDimensions() {
        ClipTextConfig small2 = new ClipTextConfig(128, 512, 2, 2, 77, 300, "gelu", 1e-5, 0, 0, 2);
        try (ClipTextModel a = ClipTextModel.random(small2, 1, false);
             ClipTextModel b = ClipTextModel.random(small2.withProjectionDim(64), 1, true)) {
            assertEquals("gelu", a.config().hiddenAct());
            assertNull(a.family(), "generated models have no detected family");
            assertFalse(a.hasProjection());
            assertEquals(64, b.representationDim());
        }
        assertEquals(32, ClipTextConfig.SDXL_2.numHiddenLayers());
        assertEquals(1280, ClipTextConfig.SDXL_2.projectionDim());
        assertEquals(23, ClipTextConfig.SD2.numHiddenLayers());
        assertEquals(20, ClipTextConfig.SDXL_2.numAttentionHeads());
    }
}
