package dev.refact.core;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.clip.tokenizer.Padding;
import dev.refact.clip.torch.Tensors;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Token ids for a batch of prompts, cut to the shortest length that still holds every prompt's first end
 * token (causal attention: later positions cannot change anything the method reads), plus the position of
 * each prompt's last subject token.
 *
 * <p>Owns {@link #ids()} [b,n] int64 on the model's device.
 */
final class PromptBatch implements AutoCloseable {
    private final List<String> prompts;
    private final Tensor ids;
    private final long[] subjectLast;
    private final int length;

    private PromptBatch(List<String> prompts, Tensor ids, long[] subjectLast, int length) {
        this.prompts = prompts;
        this.ids = ids;
        this.subjectLast = subjectLast;
        this.length = length;
    }

    /**
     * Tokenizes prompts (SD layout: start, BPE, end, end-padding) and locates {@code subject} in each.
     *
     * @param subject the subject to locate, or null to skip location
     * @throws IllegalArgumentException if a prompt is too long to keep its end token inside the context, or the
     *                                  subject is absent or cut off in a prompt (the message names it)
     */
    static PromptBatch of(ClipTokenizer tokenizer, ClipTextModel model, List<String> prompts, String subject) {
        return ofSubjects(tokenizer, model, prompts, subject == null ? null
                : java.util.Collections.nCopies(prompts.size(), subject));
    }

    /**
     * As {@link #of(ClipTokenizer, ClipTextModel, List, String)} with one subject per prompt ({@code subjects}
     * null to skip location).
     */
    static PromptBatch ofSubjects(ClipTokenizer tokenizer, ClipTextModel model, List<String> prompts,
                                  List<String> subjects) {
        int ctx = model.config().maxPositionEmbeddings();
        int b = prompts.size();
        long[][] rows = new long[b][];
        long[] last = new long[b];
        int n = 1;
        for (int i = 0; i < b; i++) {
            String p = prompts.get(i);
            int natural = tokenizer.encode(p).length + 2;
            if (natural > ctx) {
                throw new IllegalArgumentException("prompt \"" + p + "\" has " + natural + " tokens with start and end; "
                        + "the text encoder takes at most " + ctx);
            }
            rows[i] = tokenizer.inputIds(p, ctx, Padding.END_TOKEN);
            n = Math.max(n, natural);
            last[i] = subjects == null ? -1 : tokenizer.locateSubject(p, subjects.get(i)).lastTokenPosition();
        }
        long[] flat = new long[b * n];
        for (int i = 0; i < b; i++) {
            System.arraycopy(rows[i], 0, flat, i * n, n);
        }
        Tensor ids;
        try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
            ids = Tensors.longs(flat, model.device(), b, n).retainReference(); // owned by the batch only
        }
        return Tensors.handOffOwner(new PromptBatch(List.copyOf(prompts), ids, last, n));
    }

    List<String> prompts() {
        return prompts;
    }

    /** [b,n] int64. */
    Tensor ids() {
        return ids;
    }

    /** Position of the last subject token of prompt i (start token at 0). */
    long subjectLast(int i) {
        return subjectLast[i];
    }

    long[] subjectLastPositions() {
        return subjectLast.clone();
    }

    int size() {
        return prompts.size();
    }

    int length() {
        return length;
    }

    @Override
    public void close() {
        ids.close();
    }
}
