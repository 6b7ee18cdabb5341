package dev.refact.diffusion;

import dev.refact.clip.torch.Tensors;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** VAE goldens (diffusers v0.14, float32): 1e-5 relative + 2e-5 absolute. */
final class AutoencoderKLTest {
    private static final double RTOL = 1e-5;
    private static final double ATOL = 2e-5;

    private static Golden golden;
    private static AutoencoderKL vae;

    @BeforeAll
    static void load() throws Exception {
        golden = new Golden();
        vae = AutoencoderKL.load(Golden.component("vae"), ScalarType.Float, Tensors.cpu(), 0);
    }

    @AfterAll
    static void close() throws Exception {
        vae.close();
        golden.close();
    }

    @Test
    void decodeLatents_goldenLatents_matchesDecodedAndIntermediates() {
        Map<String, float[]> seen = new HashMap<>();
        try (PointerScope scope = new PointerScope()) {
            Tensor out = vae.decode(golden.tensor("vae.latents"), true, (k, v) -> seen.put(k, Tensors.toFloats(v)));
            golden.check("vae.decoded", out, RTOL, ATOL);
            Tensor image = out.div(new Scalar(2.0)).add(new Scalar(0.5))
                    .clamp(new ScalarOptional(new Scalar(0.0)), new ScalarOptional(new Scalar(1.0)))
                    .permute(0, 2, 3, 1);
            golden.check("vae.image", image, RTOL, ATOL);
        }
        for (String k : List.of("post_quant_conv", "decoder.conv_in", "decoder.mid_block", "decoder.up_blocks.0",
                "decoder.up_blocks.1")) {
            Golden.check("vae." + k, golden.floats("vae." + k), seen.get(k), RTOL, ATOL);
        }
    }

    @Test
    void encodeMoments_goldenImage_matchesMomentsMeanStdAndScaledLatents() {
        try (PointerScope scope = new PointerScope()) {
            Tensor image = golden.tensor("vae_enc.image");
            Tensor moments = vae.encodeMoments(image);
            golden.check("vae_enc.moments", moments, RTOL, ATOL);
            golden.check("vae_enc.mean", moments.narrow(1, 0, 4), RTOL, ATOL);
            Tensor logvar = moments.narrow(1, 4, 4)
                    .clamp(new ScalarOptional(new Scalar(-30.0)), new ScalarOptional(new Scalar(20.0)));
            golden.check("vae_enc.std", torch.exp(logvar.mul(new Scalar(0.5))), RTOL, ATOL);
            golden.check("vae_enc.latents_scaled", vae.encodeLatents(image), RTOL, ATOL);
        }
    }

    @Test
    void parameterCount_tinyFixture_equalsDiffusersCount() {
        org.junit.jupiter.api.Assertions.assertEquals(658375L, vae.parameterCount()); // PROVENANCE.md
    }

    @Test
    void applyNorm_lowVarianceInput_usesEps1e6() {
        try (PointerScope scope = new PointerScope()) {
            golden.check("norm.vae_conv_norm_out", vae.applyNorm("decoder.conv_norm_out", golden.tensor("norm.vae_input")),
                    1e-5, 1e-5);
        }
    }
}
