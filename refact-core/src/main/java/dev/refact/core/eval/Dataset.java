package dev.refact.core.eval;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A RoAD or TIME file read by {@link Datasets#read(Path)}.
 *
 * @param file   the CSV file
 * @param kind   its format, detected from the header
 * @param cases  one case per data row, in file order
 * @param issues what the reader noticed (duplicates, suspicious texts); never fatal
 */
public record Dataset(Path file, DatasetKind kind, List<EvalCase> cases, List<DatasetIssue> issues) {
    /**
     * Copies the lists.
     *
     * @param file   the CSV file
     * @param kind   its format
     * @param cases  one case per data row, in file order; copied
     * @param issues what the reader noticed; copied
     * @throws NullPointerException if an argument is null
     */
    public Dataset {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(kind, "kind");
        cases = List.copyOf(cases);
        issues = List.copyOf(issues);
    }

    /**
     * Number of rows.
     *
     * @return the number of cases (data rows, header excluded)
     */
    public int size() {
        return cases.size();
    }

    /**
     * Whether every row has the prompts the oracle mode needs (RoAD validation has no Positive_oracle).
     *
     * @return true if {@link EvalCase#hasOracle()} holds for every row (also for an empty dataset)
     */
    public boolean hasOracle() {
        return cases.stream().allMatch(EvalCase::hasOracle);
    }
}
