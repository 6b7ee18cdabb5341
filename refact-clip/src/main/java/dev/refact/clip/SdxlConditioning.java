package dev.refact.clip;

import dev.refact.clip.torch.Tensors;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * What SDXL's UNet consumes from its two text encoders, as diffusers' {@code StableDiffusionXLPipeline.encode_prompt}
 * builds it (no clip skip): the penultimate hidden states of both encoders ({@code hidden_states[-2]}, without the
 * final LayerNorm) concatenated along the width, and the projected pooled embedding of encoder 2. See
 * {@code docs/interop.md}, "SDXL". Results follow the library's ownership rule (caller's innermost scope).
 */
public final class SdxlConditioning {
    private SdxlConditioning() {
    }

    /**
     * {@code cat(hidden_states[-2] of encoder 1, hidden_states[-2] of encoder 2, dim=-1)}: [b, n, d1 + d2]
     * ([b, 77, 2048] for SDXL).
     *
     * @param encoder1 output of {@code encode(ids1, true)} of SDXL's encoder 1 (with hidden states)
     * @param encoder2 output of {@code encode(ids2, true)} of SDXL's encoder 2 (with hidden states)
     * @return a new [b, n, d1 + d2] tensor, owned by the caller
     * @throws IllegalArgumentException when an encoding lacks hidden states or the batch/length differ
     */
    public static Tensor promptEmbeds(TextEncoding encoder1, TextEncoding encoder2) {
        Tensor a = penultimate(encoder1, "encoder 1");
        Tensor b = penultimate(encoder2, "encoder 2");
        if (a.size(0) != b.size(0) || a.size(1) != b.size(1)) {
            throw new IllegalArgumentException("encodings differ in batch or length: " + Tensors.shapeString(a)
                    + " vs " + Tensors.shapeString(b));
        }
        Tensor out;
        try (PointerScope scope = new PointerScope()) {
            out = torch.cat(new TensorVector(a, b), -1).retainReference();
        }
        return Tensors.handOff(out);
    }

    /**
     * The pooled conditioning: encoder 2's {@code text_embeds} [b, p] (a new tensor).
     *
     * @param encoder2 output of {@code encode(ids2)} of SDXL's encoder 2 (hidden states not needed)
     * @return a copy of its {@code text_embeds} [b, p] ([b, 1280] for SDXL), owned by the caller
     * @throws IllegalArgumentException if the encoding has no projection (not SDXL's encoder 2)
     */
    public static Tensor pooledPromptEmbeds(TextEncoding encoder2) {
        if (encoder2.textEmbeds() == null) {
            throw new IllegalArgumentException("encoder 2's encoding has no text_embeds (model without projection)");
        }
        Tensor out;
        try (PointerScope scope = new PointerScope()) {
            out = encoder2.textEmbeds().clone().retainReference();
        }
        return Tensors.handOff(out);
    }

    private static Tensor penultimate(TextEncoding e, String which) {
        List<Tensor> h = e.hiddenStates();
        if (h.size() < 2) {
            throw new IllegalArgumentException(which + ": encode with withLayerOutputs = true (hidden states needed)");
        }
        return h.get(h.size() - 2);
    }
}
