package dev.refact.core.eval;

import dev.refact.core.EditRequest;
import java.util.List;
import java.util.Objects;

/**
 * One dataset row: an edit and its probes.
 *
 * <p>Efficacy: the image of {@link #prompt()} is classified over {@code [source, target]}, success
 * when {@code p(target) > p(source)}. Generalisation: {@link #positives()}. Specificity:
 * {@link #negatives()}. RoAD: prompt = {@code Prompt}, source = {@code Old}, target = {@code New},
 * oracle = {@code Oracle}; TIME: prompt = source = {@code old}, target = {@code new}, oracle =
 * {@code new}. The subject is the whole prompt (as ReFACT's {@code clip_edit.py} passes it). Texts
 * are kept as written in the file, trimmed; ReFACT lower-cases everything, which the CLIP tokenizer
 * does anyway.
 *
 * @param dataset      which format the row came from
 * @param row          0-based data row index in the file (the header is not a row)
 * @param line         1-based line of the file where the row starts
 * @param type         role or appearance edit
 * @param prompt       the edit prompt, also the efficacy image prompt
 * @param subject      the edited span (the prompt)
 * @param source       the current association: the efficacy "old" class text
 * @param target       the new association: the efficacy "new" class text
 * @param oraclePrompt the explicit prompt for the oracle's efficacy image, or {@code null}
 * @param positives    the generalisation probes (5 in both datasets)
 * @param negatives    the specificity probes (5 in both datasets)
 */
public record EvalCase(DatasetKind dataset, int row, int line, EditType type, String prompt, String subject,
        String source, String target, String oraclePrompt, List<PositiveProbe> positives,
        List<NegativeProbe> negatives) {

    /**
     * Copies the lists.
     *
     * @param dataset      which format the row came from, not null
     * @param row          0-based data row index in the file
     * @param line         1-based line of the file where the row starts
     * @param type         role or appearance edit, not null
     * @param prompt       the edit prompt, also the efficacy image prompt; not null
     * @param subject      the edited span, not null
     * @param source       the efficacy "old" class text, not null
     * @param target       the efficacy "new" class text, not null
     * @param oraclePrompt the oracle's efficacy prompt, or {@code null}
     * @param positives    the generalisation probes; copied
     * @param negatives    the specificity probes; copied
     * @throws NullPointerException if a required value is null
     */
    public EvalCase {
        Objects.requireNonNull(dataset, "dataset");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(target, "target");
        positives = List.copyOf(positives);
        negatives = List.copyOf(negatives);
    }

    /**
     * The edit this row asks for.
     *
     * @return a new request editing {@code subject} in {@code prompt} from {@code source} to {@code target}
     * @throws IllegalArgumentException if the row cannot be an edit (e.g. source equals target)
     */
    public EditRequest toRequest() {
        return new EditRequest(prompt, subject, source, target);
    }

    /**
     * The row's probes for text-space evaluation ({@link TextSpaceEvaluator}): the edit prompt over
     * {@code [source, target]}, each positive over {@code [oldText, newText]}, each negative over
     * {@code [prompt, newText]}; efficacy first, then positives, then negatives.
     *
     * @return a new mutable list of 1 + positives + negatives probes, in that order
     */
    public List<TwoWayProbe> twoWayProbes() {
        List<TwoWayProbe> out = new java.util.ArrayList<>();
        out.add(new TwoWayProbe(ProbeKind.EFFICACY, prompt, source, target));
        for (PositiveProbe p : positives) {
            out.add(new TwoWayProbe(ProbeKind.GENERALISATION, p.prompt(), p.oldText(), p.newText()));
        }
        for (NegativeProbe n : negatives) {
            out.add(new TwoWayProbe(ProbeKind.SPECIFICITY, n.prompt(), n.oldText(), n.newText()));
        }
        return out;
    }

    /**
     * Whether the row has every prompt the oracle mode needs (the edit's and every positive's).
     *
     * @return true if {@code oraclePrompt} and every positive's {@link PositiveProbe#oraclePrompt()} are set
     */
    public boolean hasOracle() {
        return oraclePrompt != null && positives.stream().allMatch(p -> p.oraclePrompt() != null);
    }

    /**
     * A short label for logs and reports: {@code "RoAD row 3: Elaine Benes → Julia Roberts"}.
     *
     * @return dataset name, row index, prompt and target
     */
    public String label() {
        return dataset.displayName() + " row " + row + ": " + prompt + " → " + target;
    }
}
