package dev.refact.core.eval;

import dev.refact.core.eval.DatasetIssue.Severity;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads the RoAD and TIME evaluation CSVs (column meanings in {@code shared/data/refact/PROVENANCE.md}).
 *
 * <pre>{@code
 * Dataset road = Datasets.read(Path.of("RoAD_validation.csv"));   // 10 cases, kind ROAD
 * EditRequest first = road.cases().get(0).toRequest();            // President → Joe Biden
 * }</pre>
 *
 * <p>The format is detected from the header (names matched case-insensitively, as ReFACT lower-cases
 * them). Errors name the file, line and column: a header that fits neither format, a missing column,
 * a row with too few or too many fields, an empty required cell, an unknown {@code Type}, a row that
 * cannot be an edit. Things that do not stop a run are returned as {@link DatasetIssue}s: repeated
 * edit prompts (TIME's {@code old} is not unique), exact duplicate rows, extra columns, trimmed
 * spaces, and RoAD texts that look like data-entry slips (a {@code Negative_new} that does not
 * mention {@code New}; positives whose old/new texts look swapped; an appearance row whose
 * {@code Old} is not its {@code Prompt}).
 */
public final class Datasets {
    /** Probes per row in both formats. */
    public static final int PROBES = 5;

    private Datasets() {
    }

    /**
     * Reads a RoAD or TIME CSV file.
     *
     * @param csv the file
     * @return its rows as {@link EvalCase}s, with the issues noticed
     * @throws DatasetFormatException if the file is not a valid RoAD/TIME CSV (names file, line, column)
     * @throws IOException            if the file cannot be read
     */
    public static Dataset read(Path csv) throws IOException {
        dev.refact.clip.io.FileErrors.requireReadableFile(csv, "dataset file");
        List<CsvReader.Row> rows = CsvReader.read(csv);
        if (rows.isEmpty()) {
            throw new DatasetFormatException(csv, 0, 0, "is empty (expected a RoAD or TIME header)");
        }
        CsvReader.Row header = rows.get(0);
        Map<String, Integer> columns = new LinkedHashMap<>();
        Map<String, String> spelled = new HashMap<>();
        for (int i = 0; i < header.fields().size(); i++) {
            String name = header.fields().get(i).strip();
            String key = name.toLowerCase(Locale.ROOT);
            if (key.isEmpty()) {
                throw new DatasetFormatException(csv, header.line(), i + 1, "header column " + (i + 1) + " is empty");
            }
            if (columns.putIfAbsent(key, i) != null) {
                throw new DatasetFormatException(csv, header.line(), i + 1, "header names column \"" + name
                        + "\" twice (columns " + (columns.get(key) + 1) + " and " + (i + 1) + ")");
            }
            spelled.put(key, name);
        }
        DatasetKind kind = detect(csv, header, columns);
        Reader reader = new Reader(csv, kind, header, columns, spelled);
        return reader.readRows(rows.subList(1, rows.size()));
    }

    private static DatasetKind detect(Path csv, CsvReader.Row header, Map<String, Integer> columns)
            throws DatasetFormatException {
        if (columns.containsKey("prompt") || columns.containsKey("positive_old1") || columns.containsKey("type")) {
            return DatasetKind.ROAD;
        }
        if (columns.containsKey("gt1") || columns.containsKey("gn1")
                || (columns.containsKey("old") && columns.containsKey("new"))) {
            return DatasetKind.TIME;
        }
        throw new DatasetFormatException(csv, header.line(), 0, "header fits neither RoAD (Type, Prompt, Oracle, "
                + "Old, New, Positive{i}, Positive_old{i}, Positive_new{i}, Negative{i}, Negative_new{i}) nor TIME "
                + "(old, new, positive{i}, gt{i}, negative{i}, gn{i}); found: " + header.fields());
    }

    /** Column layout of one file and the row conversion. */
    private static final class Reader {
        private final Path csv;
        private final DatasetKind kind;
        private final Map<String, Integer> columns;
        private final Map<String, String> spelled;
        private final int width;
        private final boolean positiveOracle;
        private final List<DatasetIssue> issues = new ArrayList<>();
        private int trimmed;
        private int firstTrimmedLine;

        Reader(Path csv, DatasetKind kind, CsvReader.Row header, Map<String, Integer> columns,
                Map<String, String> spelled) throws DatasetFormatException {
            this.csv = csv;
            this.kind = kind;
            this.columns = columns;
            this.spelled = spelled;
            this.width = header.fields().size();
            List<String> required = new ArrayList<>();
            List<String> optional = new ArrayList<>();
            if (kind == DatasetKind.ROAD) {
                required.addAll(List.of("Type", "Prompt", "Oracle", "Old", "New"));
                for (int i = 1; i <= PROBES; i++) {
                    required.addAll(List.of("Positive" + i, "Positive_old" + i, "Positive_new" + i));
                }
                for (int i = 1; i <= PROBES; i++) {
                    required.addAll(List.of("Negative" + i, "Negative_new" + i));
                    optional.add("Positive_oracle" + i);
                }
            } else {
                required.addAll(List.of("old", "new"));
                for (int i = 1; i <= PROBES; i++) {
                    required.addAll(List.of("positive" + i, "gt" + i));
                }
                for (int i = 1; i <= PROBES; i++) {
                    required.addAll(List.of("negative" + i, "gn" + i));
                }
            }
            for (String c : required) {
                if (!columns.containsKey(c.toLowerCase(Locale.ROOT))) {
                    throw new DatasetFormatException(csv, header.line(), 0, "missing column \"" + c + "\" for the "
                            + kind.displayName() + " format (header: " + header.fields() + ")");
                }
            }
            long present = optional.stream().filter(c -> columns.containsKey(c.toLowerCase(Locale.ROOT))).count();
            if (present != 0 && present != optional.size()) {
                String missing = optional.stream().filter(c -> !columns.containsKey(c.toLowerCase(Locale.ROOT)))
                        .findFirst().orElseThrow();
                throw new DatasetFormatException(csv, header.line(), 0, "has some Positive_oracle columns but not \""
                        + missing + "\" (give all five or none)");
            }
            this.positiveOracle = present == optional.size();
            List<String> known = new ArrayList<>(required);
            known.addAll(optional);
            for (Map.Entry<String, Integer> e : columns.entrySet()) {
                if (known.stream().noneMatch(k -> k.equalsIgnoreCase(e.getKey()))) {
                    issues.add(new DatasetIssue(Severity.INFO, header.line(), "column " + (e.getValue() + 1) + " \""
                            + spelled.get(e.getKey()) + "\" is not part of the " + kind.displayName()
                            + " format and is ignored"));
                }
            }
        }

        Dataset readRows(List<CsvReader.Row> rows) throws DatasetFormatException {
            List<EvalCase> cases = new ArrayList<>();
            Map<String, EvalCase> byPrompt = new HashMap<>();
            for (CsvReader.Row r : rows) {
                EvalCase c = toCase(cases.size(), r);
                String key = c.prompt().toLowerCase(Locale.ROOT);
                EvalCase earlier = byPrompt.putIfAbsent(key, c);
                if (earlier != null) {
                    boolean same = earlier.target().equalsIgnoreCase(c.target());
                    issues.add(new DatasetIssue(same ? Severity.WARNING : Severity.INFO, c.line(), same
                            ? "row " + c.row() + " repeats the edit of row " + earlier.row() + " (line "
                                    + earlier.line() + "): \"" + c.prompt() + "\" → \"" + c.target() + "\""
                            : "edit prompt \"" + c.prompt() + "\" also on row " + earlier.row() + " (line "
                                    + earlier.line() + ") with target \"" + earlier.target() + "\"; this row's target is \""
                                    + c.target() + "\" (keep results apart by row index)"));
                }
                if (kind == DatasetKind.ROAD) {
                    checkRoadQuirks(c);
                }
                cases.add(c);
            }
            if (cases.isEmpty()) {
                throw new DatasetFormatException(csv, 0, 0, "has a header but no rows");
            }
            if (trimmed > 0) {
                issues.add(new DatasetIssue(Severity.INFO, firstTrimmedLine, trimmed
                        + " cell(s) had leading or trailing spaces and were trimmed (first on line " + firstTrimmedLine
                        + ")"));
            }
            issues.sort(java.util.Comparator.comparingInt(DatasetIssue::line));
            return new Dataset(csv, kind, cases, issues);
        }

        private EvalCase toCase(int index, CsvReader.Row r) throws DatasetFormatException {
            if (r.fields().size() != width) {
                String detail;
                if (r.fields().size() < width) {
                    int firstMissing = r.fields().size();
                    String name = columnName(firstMissing);
                    detail = "has " + r.fields().size() + " fields but the header has " + width + ": column "
                            + (firstMissing + 1) + " (" + name + ") and later ones are missing";
                } else {
                    detail = "has " + r.fields().size() + " fields but the header has " + width
                            + " (an unquoted comma inside a text?)";
                }
                throw new DatasetFormatException(csv, r.line(), 0, "row " + index + " " + detail);
            }
            EvalCase c;
            if (kind == DatasetKind.ROAD) {
                String typeText = cell(r, "Type");
                EditType type = switch (typeText.toLowerCase(Locale.ROOT)) {
                    case "role" -> EditType.ROLE;
                    case "appearance" -> EditType.APPEARANCE;
                    default -> throw new DatasetFormatException(csv, r.line(), columns.get("type") + 1,
                            "Type is \"" + typeText + "\"; expected Role or Appearance");
                };
                String prompt = cell(r, "Prompt");
                String oracle = cell(r, "Oracle");
                String old = cell(r, "Old");
                String target = cell(r, "New");
                List<PositiveProbe> pos = new ArrayList<>();
                List<NegativeProbe> neg = new ArrayList<>();
                for (int i = 1; i <= PROBES; i++) {
                    pos.add(new PositiveProbe(cell(r, "Positive" + i), cell(r, "Positive_old" + i),
                            cell(r, "Positive_new" + i), positiveOracle ? cell(r, "Positive_oracle" + i) : null));
                }
                for (int i = 1; i <= PROBES; i++) {
                    neg.add(new NegativeProbe(cell(r, "Negative" + i), cell(r, "Negative_new" + i)));
                }
                c = new EvalCase(kind, index, r.line(), type, prompt, prompt, old, target, oracle, pos, neg);
            } else {
                String old = cell(r, "old");
                String target = cell(r, "new");
                List<PositiveProbe> pos = new ArrayList<>();
                List<NegativeProbe> neg = new ArrayList<>();
                for (int i = 1; i <= PROBES; i++) {
                    String p = cell(r, "positive" + i);
                    String gt = cell(r, "gt" + i);
                    pos.add(new PositiveProbe(p, p, gt, gt));
                }
                for (int i = 1; i <= PROBES; i++) {
                    neg.add(new NegativeProbe(cell(r, "negative" + i), cell(r, "gn" + i)));
                }
                c = new EvalCase(kind, index, r.line(), EditType.APPEARANCE, old, old, old, target, target, pos, neg);
            }
            try {
                c.toRequest();
            } catch (IllegalArgumentException e) {
                throw new DatasetFormatException(csv, r.line(), 0, "row " + index + " cannot be an edit: "
                        + e.getMessage());
            }
            return c;
        }

        private String columnName(int index) {
            return columns.entrySet().stream().filter(e -> e.getValue() == index)
                    .map(e -> spelled.get(e.getKey())).findFirst().orElse("?");
        }

        private String cell(CsvReader.Row r, String column) throws DatasetFormatException {
            int i = columns.get(column.toLowerCase(Locale.ROOT));
            String raw = r.fields().get(i);
            String v = raw.strip();
            if (v.isEmpty()) {
                throw new DatasetFormatException(csv, r.line(), i + 1, "empty cell in column "
                        + spelled.get(column.toLowerCase(Locale.ROOT)) + " (column " + (i + 1) + ")");
            }
            if (!v.equals(raw)) {
                if (trimmed++ == 0) {
                    firstTrimmedLine = r.line();
                }
            }
            return v;
        }

        private void checkRoadQuirks(EvalCase c) {
            String old = c.source().toLowerCase(Locale.ROOT);
            String target = c.target().toLowerCase(Locale.ROOT);
            if (c.type() == EditType.APPEARANCE && !c.source().equalsIgnoreCase(c.prompt())) {
                issues.add(new DatasetIssue(Severity.WARNING, c.line(), "row " + c.row() + " (\"" + c.prompt()
                        + "\") is an Appearance edit but Old \"" + c.source() + "\" is not its Prompt"));
            }
            if (c.type() == EditType.ROLE && c.source().equalsIgnoreCase(c.prompt())) {
                issues.add(new DatasetIssue(Severity.WARNING, c.line(), "row " + c.row() + " (\"" + c.prompt()
                        + "\") is a Role edit but Old equals its Prompt"));
            }
            for (int i = 0; i < c.positives().size(); i++) {
                PositiveProbe p = c.positives().get(i);
                String po = p.oldText().toLowerCase(Locale.ROOT);
                String pn = p.newText().toLowerCase(Locale.ROOT);
                if (!old.contains(target) && !target.contains(old) && po.contains(target) && !po.contains(old)
                        && pn.contains(old) && !pn.contains(target)) {
                    issues.add(new DatasetIssue(Severity.WARNING, c.line(), "row " + c.row() + " (\"" + c.prompt()
                            + "\"): Positive_old" + (i + 1) + " \"" + p.oldText() + "\" mentions New and Positive_new"
                            + (i + 1) + " \"" + p.newText() + "\" mentions Old: swapped?"));
                }
            }
            for (int i = 0; i < c.negatives().size(); i++) {
                NegativeProbe n = c.negatives().get(i);
                if (!n.newText().toLowerCase(Locale.ROOT).contains(target)) {
                    issues.add(new DatasetIssue(Severity.WARNING, c.line(), "row " + c.row() + " (\"" + c.prompt()
                            + "\"): Negative_new" + (i + 1) + " is \"" + n.newText() + "\" but New is \""
                            + c.target() + "\""));
                }
            }
        }
    }
}
