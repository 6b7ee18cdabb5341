package dev.refact.report;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

/**
 * A CSV table built row by row and printed by Apache Commons CSV (RFC 4180: a field containing a comma, a quote,
 * {@code \r} or {@code \n} is quoted, quotes doubled; {@code \n} ends a record).
 */
final class CsvTable {
    private static final CSVFormat FORMAT = CSVFormat.RFC4180.builder().setRecordSeparator("\n").get();

    private final List<List<String>> rows = new ArrayList<>();
    private List<String> current;

    /** Starts a new row with the given fields. */
    CsvTable row(String... fields) {
        current = new ArrayList<>(Arrays.asList(fields));
        rows.add(current);
        return this;
    }

    /** Appends fields to the current row. */
    CsvTable add(String... fields) {
        current.addAll(Arrays.asList(fields));
        return this;
    }

    /** The table as CSV text. */
    @Override
    public String toString() {
        StringBuilder out = new StringBuilder();
        try (CSVPrinter p = new CSVPrinter(out, FORMAT)) {
            for (List<String> r : rows) {
                p.printRecord(r);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringBuilder does not fail
        }
        return out.toString();
    }
}
