package dev.refact.core.eval;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * An RFC 4180 CSV parser: comma-separated fields, fields in double quotes may hold commas, line
 * breaks and doubled quotes ({@code ""} → {@code "}); records end with CRLF, LF or CR; a UTF-8 byte
 * order mark is skipped; a final line break is optional; completely empty lines are skipped (as
 * pandas does). Strict where RFC 4180 is: a quote inside an unquoted field, text after a closing
 * quote, or an unterminated quoted field is an error naming the file, line and column.
 */
final class CsvReader {
    /** One record and the 1-based line on which it starts. */
    record Row(int line, List<String> fields) {
        Row {
            fields = List.copyOf(fields);
        }
    }

    /** The largest dataset file read: 64 MiB (RoAD and TIME are a few hundred KB). */
    static final long MAX_BYTES = 64L << 20;

    private CsvReader() {
    }

    static List<Row> read(Path file) throws IOException {
        // bounded and strict: /dev/zero or a huge file is refused after MAX_BYTES, naming the file
        String text = dev.refact.clip.io.TextFiles.readString(file, MAX_BYTES);
        return parse(text, file);
    }

    static List<Row> parse(String text, Path file) throws DatasetFormatException {
        List<Row> rows = new ArrayList<>();
        int n = text.length();
        int i = text.startsWith("\uFEFF") ? 1 : 0;
        int line = 1;
        int lineStart = i;
        while (i < n) {
            int recordLine = line;
            List<String> fields = new ArrayList<>();
            StringBuilder field = new StringBuilder();
            boolean endOfRecord = false;
            // An empty line (just a line break) is skipped.
            if (text.charAt(i) == '\n' || text.charAt(i) == '\r') {
                i += text.startsWith("\r\n", i) ? 2 : 1;
                line++;
                lineStart = i;
                continue;
            }
            while (!endOfRecord) {
                if (i < n && text.charAt(i) == '"') {
                    int quoteLine = line;
                    int quoteCol = i - lineStart + 1;
                    i++;
                    while (true) {
                        if (i >= n) {
                            throw new DatasetFormatException(file, quoteLine, quoteCol,
                                    "quoted field is never closed (missing '\"')");
                        }
                        char c = text.charAt(i);
                        if (c == '"') {
                            if (i + 1 < n && text.charAt(i + 1) == '"') {
                                field.append('"');
                                i += 2;
                                continue;
                            }
                            i++;
                            break;
                        }
                        if (c == '\r' || c == '\n') {
                            // A line break inside quotes belongs to the field; keep CRLF as is.
                            if (c == '\r' && i + 1 < n && text.charAt(i + 1) == '\n') {
                                field.append("\r\n");
                                i += 2;
                            } else {
                                field.append(c);
                                i++;
                            }
                            line++;
                            lineStart = i;
                            continue;
                        }
                        field.append(c);
                        i++;
                    }
                    if (i < n && text.charAt(i) != ',' && text.charAt(i) != '\r' && text.charAt(i) != '\n') {
                        throw new DatasetFormatException(file, line, i - lineStart + 1,
                                "unexpected '" + text.charAt(i) + "' after the closing quote of field "
                                        + (fields.size() + 1) + " (a field must be quoted as a whole)");
                    }
                } else {
                    while (i < n) {
                        char c = text.charAt(i);
                        if (c == ',' || c == '\r' || c == '\n') {
                            break;
                        }
                        if (c == '"') {
                            throw new DatasetFormatException(file, line, i - lineStart + 1,
                                    "quote inside unquoted field " + (fields.size() + 1)
                                            + " (quote the whole field and double the quote: \"say \"\"hi\"\"\")");
                        }
                        field.append(c);
                        i++;
                    }
                }
                fields.add(field.toString());
                field.setLength(0);
                if (i >= n) {
                    endOfRecord = true;
                } else if (text.charAt(i) == ',') {
                    i++;
                } else {
                    i += text.startsWith("\r\n", i) ? 2 : 1;
                    line++;
                    lineStart = i;
                    endOfRecord = true;
                }
            }
            rows.add(new Row(recordLine, fields));
        }
        return rows;
    }
}
