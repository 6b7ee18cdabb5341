package dev.refact.diffusion;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.TextEncoding;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.clip.tokenizer.Padding;
import dev.refact.clip.torch.Tensors;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * Stable Diffusion text conditioning with refact-clip: token ids padded to 77 with the end token
 * (SD layout), through the given {@link ClipTextModel}, taking {@code last_hidden_state}.
 *
 * <p>The model is used as it is in memory at each call, so a rank-one edit applied to it (or
 * undone) shows in the next image without reloading. Neither the model nor the tokenizer is owned.
 */
public final class ClipPromptEncoder implements PromptEncoder {
    /** SD's text length (CLIP max positions). */
    public static final int MAX_LENGTH = 77;

    private final ClipTextModel model;
    private final Function<String, long[]> tokenizer;

    /**
     * SD text conditioning with refact-clip's tokenizer: {@code inputIds(prompt, 77, Padding.END_TOKEN)}.
     *
     * @param model     the (possibly edited) text encoder; not owned
     * @param tokenizer the CLIP tokenizer of the same checkpoint
     */
    public ClipPromptEncoder(ClipTextModel model, ClipTokenizer tokenizer) {
        this(model, text -> tokenizer.inputIds(text, MAX_LENGTH, Padding.END_TOKEN));
    }

    /**
     * @param model     the (possibly edited) text encoder
     * @param tokenizer prompt → 77 token ids (BOS, tokens, EOS, padded with EOS; truncated to 77)
     */
    public ClipPromptEncoder(ClipTextModel model, Function<String, long[]> tokenizer) {
        this.model = Objects.requireNonNull(model, "model");
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
    }

    @Override
    public int width() {
        return model.config().hiddenSize();
    }

    @Override
    public Tensor encode(List<String> prompts) {
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException("no prompts");
        }
        long[][] ids = new long[prompts.size()][];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = tokenizer.apply(prompts.get(i));
            if (ids[i].length != MAX_LENGTH) {
                throw new IllegalArgumentException("tokenizer gave " + ids[i].length + " ids for prompt \""
                        + prompts.get(i) + "\", expected " + MAX_LENGTH);
            }
        }
        return encodeIds(ids);
    }

    /**
     * Encodes token ids directly.
     *
     * @param ids rows of 77 token ids
     * @return [rows, 77, d], belonging to the caller's innermost open scope (or to the caller when none is open)
     */
    public Tensor encodeIds(long[][] ids) {
        long[] flat = new long[ids.length * MAX_LENGTH];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i].length != MAX_LENGTH) {
                throw new IllegalArgumentException("row " + i + " has " + ids[i].length + " token ids, expected "
                        + MAX_LENGTH);
            }
            System.arraycopy(ids[i], 0, flat, i * MAX_LENGTH, MAX_LENGTH);
        }
        Tensor states;
        try (PointerScope scope = new PointerScope()) {
            Tensor t = Tensors.longs(flat, model.device(), ids.length, MAX_LENGTH); // belongs to the scope
            try (TextEncoding enc = model.encode(t)) {
                states = enc.lastHiddenState().clone().retainReference();
            }
        }
        return Tensors.handOff(states);
    }
}
