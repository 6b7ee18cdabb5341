package dev.refact.core.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.testing.SharedData;
import dev.refact.core.EditRequest;
import dev.refact.core.eval.DatasetIssue.Severity;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The readers on the shared RoAD/TIME files (row counts, columns, known quirks) and on broken copies. */
final class DatasetsTest {
    @TempDir
    Path tmp;

    private static Path road() {
        return SharedData.resolve("refact/road/RoAD_validation.csv");
    }

    @Test
    void read_roadValidation_givesTenCasesWithColumnsMapped() throws IOException {
        Dataset d = Datasets.read(road());
        assertEquals(DatasetKind.ROAD, d.kind());
        assertEquals(10, d.size());
        assertEquals(5, d.cases().stream().filter(c -> c.type() == EditType.ROLE).count());
        assertEquals(5, d.cases().stream().filter(c -> c.type() == EditType.APPEARANCE).count());
        EvalCase c = d.cases().get(0);
        assertEquals(0, c.row());
        assertEquals(2, c.line());
        assertEquals("The President of the United States", c.prompt());
        assertEquals(c.prompt(), c.subject());
        assertEquals("Donald Trump", c.source());
        assertEquals("Joe Biden", c.target());
        assertEquals("Joe Biden as The President of the United States", c.oraclePrompt());
        assertEquals(5, c.positives().size());
        assertEquals(new PositiveProbe("The United States President playing guitar", "Donald Trump playing guitar",
                "Joe Biden playing guitar", null), c.positives().get(0));
        assertEquals(new NegativeProbe("A mayor", "Joe biden"), c.negatives().get(1));
        assertEquals("A mayor", c.negatives().get(1).oldText());
        assertEquals(new EditRequest("The President of the United States", "The President of the United States",
                "Donald Trump", "Joe Biden"), c.toRequest());
        // Appearance rows: Old == Prompt.
        d.cases().stream().filter(x -> x.type() == EditType.APPEARANCE)
                .forEach(x -> assertEquals(x.prompt(), x.source(), x.label()));
    }

    @Test
    void read_roadValidation_hasNoOracleForPositivesAndSaysSo() throws IOException {
        Dataset d = Datasets.read(road());
        assertFalse(d.hasOracle());
        d.cases().forEach(c -> c.positives().forEach(p -> assertNull(p.oraclePrompt())));
    }

    @Test
    void read_roadValidation_reportsNegativeNewSlips() throws IOException {
        Dataset d = Datasets.read(road());
        List<DatasetIssue> warnings = d.issues().stream().filter(i -> i.severity() == Severity.WARNING).toList();
        assertEquals(2, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).message().contains("Elaine Benes")
                && warnings.get(0).message().contains("Negative_new4 is \"Nicolas Cage\""), warnings.toString());
        assertTrue(warnings.get(1).message().contains("Cosmo Kramer"), warnings.toString());
        assertEquals(5, warnings.get(0).line());
    }

    @Test
    void read_timeFiles_giveRowCountsAndRepeatedPromptsAsInfo() throws IOException {
        int[][] expected = {{147, 39}, {104, 22}, {8, 0}};
        String[] files = {"TIMED_test_set.csv", "TIMED_test_set_filtered_SD14.csv", "TIMED_validation_set.csv"};
        for (int f = 0; f < files.length; f++) {
            Dataset d = Datasets.read(SharedData.resolve("refact/time/" + files[f]));
            assertEquals(DatasetKind.TIME, d.kind(), files[f]);
            assertEquals(expected[f][0], d.size(), files[f]);
            long repeats = d.issues().stream().filter(i -> i.message().startsWith("edit prompt")).count();
            assertEquals(expected[f][1], repeats, files[f] + " rows repeating an earlier 'old'");
            assertTrue(d.issues().stream().noneMatch(i -> i.severity() == Severity.WARNING), d.issues().toString());
            assertTrue(d.hasOracle(), files[f]);
        }
    }

    @Test
    void read_timeValidation_mapsOldNewGtGn() throws IOException {
        Dataset d = Datasets.read(SharedData.resolve("refact/time/TIMED_validation_set.csv"));
        EvalCase c = d.cases().get(0);
        assertEquals(EditType.APPEARANCE, c.type());
        assertEquals("A bear", c.prompt());
        assertEquals("A bear", c.source());
        assertEquals("A sand bear", c.target());
        assertEquals("A sand bear", c.oraclePrompt());
        assertEquals(new PositiveProbe("A bear, pixel art", "A bear, pixel art", "A sand bear, pixel art",
                "A sand bear, pixel art"), c.positives().get(0));
        assertEquals(new NegativeProbe("A tree", "A sand tree"), c.negatives().get(4));
    }

    @Test
    void read_timeTestSet_trimsTrailingSpacesAndSaysSo() throws IOException {
        Dataset d = Datasets.read(SharedData.resolve("refact/time/TIMED_test_set.csv"));
        assertTrue(d.issues().stream().anyMatch(i -> i.message().startsWith("12 cell(s) had leading or trailing")),
                d.issues().toString());
        d.cases().forEach(c -> c.positives().forEach(p -> assertEquals(p.prompt().strip(), p.prompt())));
    }

    private Path copyOfRoad(java.util.function.UnaryOperator<List<String>> edit) throws IOException {
        List<String> lines = new ArrayList<>(Files.readAllLines(road(), StandardCharsets.UTF_8));
        Path p = tmp.resolve("road.csv");
        Files.write(p, edit.apply(lines), StandardCharsets.UTF_8);
        return p;
    }

    @Test
    void read_missingColumn_namesIt() throws IOException {
        Path p = copyOfRoad(lines -> {
            lines.replaceAll(l -> l.substring(0, l.lastIndexOf(',')));
            return lines;
        });
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> Datasets.read(p));
        assertTrue(e.getMessage().contains("road.csv:1") && e.getMessage().contains("missing column \"Negative_new5\""),
                e.getMessage());
    }

    @Test
    void read_shortRow_namesLineAndFirstMissingColumn() throws IOException {
        Path p = copyOfRoad(lines -> {
            String l = lines.get(3);
            lines.set(3, l.substring(0, l.lastIndexOf(',')));
            return lines;
        });
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> Datasets.read(p));
        assertEquals(4, e.line());
        assertTrue(e.getMessage().contains("road.csv:4") && e.getMessage().contains("column 30 (Negative_new5)"),
                e.getMessage());
    }

    @Test
    void read_emptyRequiredCell_namesLineAndColumn() throws IOException {
        Path p = copyOfRoad(lines -> {
            lines.set(2, lines.get(2).replaceFirst(",Ban Ki-Moon,", ",,"));
            return lines;
        });
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> Datasets.read(p));
        assertTrue(e.getMessage().startsWith(p + ":3:4: empty cell in column Old"), e.getMessage());
    }

    @Test
    void read_unknownType_namesValue() throws IOException {
        Path p = copyOfRoad(lines -> {
            lines.set(1, lines.get(1).replaceFirst("^Role", "Rol"));
            return lines;
        });
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> Datasets.read(p));
        assertTrue(e.getMessage().contains(":2:1: Type is \"Rol\""), e.getMessage());
    }

    @Test
    void read_duplicateRow_isWarningNotError() throws IOException {
        Path p = copyOfRoad(lines -> {
            lines.add(lines.get(1));
            return lines;
        });
        Dataset d = Datasets.read(p);
        assertEquals(11, d.size());
        assertTrue(d.issues().stream().anyMatch(i -> i.severity() == Severity.WARNING && i.line() == 12
                && i.message().contains("repeats the edit of row 0")), d.issues().toString());
    }

    @Test
    void read_unknownHeader_listsBothFormats() throws IOException {
        Path p = tmp.resolve("x.csv");
        Files.writeString(p, "a,b\n1,2\n");
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> Datasets.read(p));
        assertTrue(e.getMessage().contains("neither RoAD") && e.getMessage().contains("TIME"), e.getMessage());
    }

    @Test
    void read_rowWithSameSourceAndTarget_isRefusedWithLine() throws IOException {
        Path p = tmp.resolve("t.csv");
        StringBuilder sb = new StringBuilder("old,new");
        for (int i = 1; i <= 5; i++) {
            sb.append(",positive").append(i).append(",gt").append(i);
        }
        for (int i = 1; i <= 5; i++) {
            sb.append(",negative").append(i).append(",gn").append(i);
        }
        sb.append("\nA cat,a CAT").append(",p,g".repeat(10)).append('\n');
        Files.writeString(p, sb);
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> Datasets.read(p));
        assertTrue(e.getMessage().contains("t.csv:2") && e.getMessage().contains("cannot be an edit"), e.getMessage());
    }

    @Test
    void read_swappedPositiveTexts_areFlagged() throws IOException {
        Path p = copyOfRoad(lines -> {
            lines.set(1, lines.get(1).replace("Donald Trump playing guitar,Joe Biden playing guitar",
                    "Joe Biden playing guitar,Donald Trump playing guitar"));
            return lines;
        });
        Dataset d = Datasets.read(p);
        assertTrue(d.issues().stream().anyMatch(i -> i.line() == 2 && i.message().contains("Positive_old1")
                && i.message().contains("swapped")), d.issues().toString());
    }
}
