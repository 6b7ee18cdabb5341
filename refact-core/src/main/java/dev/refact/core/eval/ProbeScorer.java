package dev.refact.core.eval;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.tokenizer.ClipTokenizer;
import java.util.List;
import java.util.Map;

/**
 * Turns a row's two-way probes into p(new) for the model as it is now: in text space
 * ({@link #textSpace(ClipTokenizer, boolean)}) or through generated images classified by CLIP (the image
 * scorer of the command line).
 *
 * <p>The {@link EvaluationRunner} calls {@link #prepare} once per row on the CLEAN model (class texts are
 * always embedded by the clean model) and then {@link RowScorer#pNew} with the model in the state to be
 * scored (edited or not), once per seed.
 */
public interface ProbeScorer {

    /**
     * {@code "text"} or {@code "image"}: recorded in results files and reports.
     *
     * @return the scoring space's name
     */
    String space();

    /**
     * Whether scores depend on a seed (image generation). An unseeded scorer (text space) is scored once, as
     * seed 0.
     *
     * @return true if {@link RowScorer#pNew} depends on its seed
     */
    boolean seeded();

    /**
     * Everything that makes two runs' scores comparable (representation, classifier fingerprint, diffusion
     * settings, …), as flat key/value strings; recorded in the results file's configuration, so a resume with
     * a different scorer is refused.
     *
     * @return the description, in a stable key order
     */
    Map<String, String> description();

    /**
     * Prepares one row.
     *
     * @param cleanModel the unedited text encoder (its weights are not changed)
     * @param row        the dataset row (for labels and file names; the probes are what is scored)
     * @param probes     the row's probes for the run's mode, efficacy first, then positives, then negatives
     * @return a scorer for this row; it holds no native memory
     */
    RowScorer prepare(ClipTextModel cleanModel, EvalCase row, List<TwoWayProbe> probes);

    /** Scores one prepared row. */
    interface RowScorer {
        /**
         * p(new) of every probe, in the order given to {@link #prepare}, each in [0, 1]; p(old) = 1 − p(new).
         *
         * @param model the text encoder in the state to be scored (the same instance as prepared, edited or not)
         * @param seed  the generation seed (ignored by unseeded scorers)
         * @return a new array of p(new), one per probe
         */
        double[] pNew(ClipTextModel model, int seed);
    }

    /**
     * Text-space scoring ({@link TextSpaceEvaluator}): the model's embedding of each probe prompt against the
     * clean model's embeddings of its old/new texts, p = softmax(100·cos).
     *
     * @param tokenizer the model's tokenizer, not null
     * @param projected use the projected end-token embedding when the model has {@code text_projection}
     *                  (else the pooled output)
     * @return an unseeded scorer with space {@code "text"}
     * @throws NullPointerException if {@code tokenizer} is null
     */
    static ProbeScorer textSpace(ClipTokenizer tokenizer, boolean projected) {
        return new TextSpaceScorer(tokenizer, projected);
    }
}
