package dev.refact.diffusion;

import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Turns prompts into the text states the UNet cross-attends to (SD: CLIP {@code last_hidden_state}
 * of the prompt padded to 77 tokens). {@link ClipPromptEncoder} is the CLIP implementation; it
 * works on an in-memory (possibly edited) {@code ClipTextModel}.
 */
public interface PromptEncoder {

    /**
     * Width d of the states (must equal the UNet's {@code cross_attention_dim}).
     *
     * @return the last dimension d of what {@link #encode} returns (SD 1.x CLIP: 768)
     */
    int width();

    /**
     * Encodes prompts.
     *
     * @param prompts one or more prompts ({@code ""} is the unconditional prompt)
     * @return [prompts.size(), 77, d] float states, under the library's hand-off rule ({@code Tensors.handOff}): they
     *         belong to the caller's innermost open scope, or to the caller when none is open (an implementation
     *         that always leaves them to the caller is also accepted by the pipeline)
     * @throws IllegalArgumentException for a prompt the encoder cannot take
     */
    Tensor encode(List<String> prompts);
}
