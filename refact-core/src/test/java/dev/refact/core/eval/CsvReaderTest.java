package dev.refact.core.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

final class CsvReaderTest {
    private static final Path F = Path.of("t.csv");

    @Test
    void parse_quotedFieldsWithCommasQuotesAndNewlines_areUnescaped() throws DatasetFormatException {
        String text = "\uFEFFa,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\r\nlines\"\n1,,3";
        List<CsvReader.Row> rows = CsvReader.parse(text, F);
        assertEquals(3, rows.size());
        assertEquals(List.of("a", "b", "c"), rows.get(0).fields());
        assertEquals(List.of("x, y", "say \"hi\"", "two\r\nlines"), rows.get(1).fields());
        assertEquals(2, rows.get(1).line());
        assertEquals(List.of("1", "", "3"), rows.get(2).fields());
        assertEquals(4, rows.get(2).line(), "a quoted line break advances the line count");
    }

    @Test
    void parse_lineEndingsAndBlankLines_areHandled() throws DatasetFormatException {
        List<CsvReader.Row> rows = CsvReader.parse("a,b\r1,2\r\n\n3,4\n", F);
        assertEquals(3, rows.size());
        assertEquals(List.of("3", "4"), rows.get(2).fields());
        assertEquals(4, rows.get(2).line());
        assertEquals(List.of("", ""), CsvReader.parse(",", F).get(0).fields());
        assertEquals(List.of("", "x"), CsvReader.parse("\"\",x", F).get(0).fields());
    }

    @Test
    void parse_unterminatedQuote_namesLineAndColumnWhereItOpened() {
        DatasetFormatException e = assertThrows(DatasetFormatException.class,
                () -> CsvReader.parse("a,b\n1,\"open\n2,3\n", F));
        assertTrue(e.getMessage().startsWith("t.csv:2:3: quoted field is never closed"), e.getMessage());
        assertEquals(2, e.line());
    }

    @Test
    void formatException_serialized_keepsFileAndLine() throws Exception {
        DatasetFormatException e = assertThrows(DatasetFormatException.class,
                () -> CsvReader.parse("a,b\n1,\"open\n2,3\n", F));
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
            out.writeObject(e);
        }
        DatasetFormatException back;
        try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(
                new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
            back = (DatasetFormatException) in.readObject();
        }
        assertEquals(F, back.file());
        assertEquals(2, back.line());
        assertEquals(e.getMessage(), back.getMessage());
    }

    @Test
    void parse_textAfterClosingQuote_isAnError() {
        DatasetFormatException e = assertThrows(DatasetFormatException.class,
                () -> CsvReader.parse("\"ab\"c,d", F));
        assertTrue(e.getMessage().contains("t.csv:1:5") && e.getMessage().contains("after the closing quote"),
                e.getMessage());
    }

    @Test
    void parse_quoteInsideUnquotedField_isAnError() {
        DatasetFormatException e = assertThrows(DatasetFormatException.class,
                () -> CsvReader.parse("a,b\nx,12\" screen\n", F));
        assertTrue(e.getMessage().contains("t.csv:2:5") && e.getMessage().contains("field 2"), e.getMessage());
    }
}
