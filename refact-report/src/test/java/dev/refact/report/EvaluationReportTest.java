package dev.refact.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.testing.SharedData;
import dev.refact.core.Hyperparameters;
import dev.refact.core.eval.CellResult;
import dev.refact.core.eval.Dataset;
import dev.refact.core.eval.Datasets;
import dev.refact.core.eval.EditSummary;
import dev.refact.core.eval.EvalCase;
import dev.refact.core.eval.EvalMode;
import dev.refact.core.eval.EvaluationResult;
import dev.refact.core.eval.EvaluationSetup;
import dev.refact.core.eval.Metric;
import dev.refact.core.eval.Metrics;
import dev.refact.core.eval.ProbeKind;
import dev.refact.core.eval.ProbeScore;
import dev.refact.core.eval.SequentialPoint;
import dev.refact.core.eval.SequentialResult;
import dev.refact.core.eval.SweepPoint;
import dev.refact.core.eval.SweepResult;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reports written from hand-made results (no model, no natives): file names, markdown, CSV columns and quoting,
 * charts drawn. The runner itself is tested in refact-core.
 */
final class EvaluationReportTest {
    static Dataset road;

    @TempDir
    Path tmp;

    @BeforeAll
    static void setUp() throws IOException {
        road = Datasets.read(SharedData.resolve("refact/road/RoAD_validation.csv"));
    }

    /** Scores of one row: efficacy 1 probe, generalisation and specificity 3 each; {@code good} sets p(new). */
    private static List<ProbeScore> scores(int row, double good) {
        List<ProbeScore> s = new ArrayList<>();
        s.add(new ProbeScore(row, 0, ProbeKind.EFFICACY, 0, 1 - good, good));
        for (int i = 0; i < 3; i++) {
            s.add(new ProbeScore(row, 0, ProbeKind.GENERALISATION, i, 1 - good + 0.1 * i / 3, good - 0.1 * i / 3));
            s.add(new ProbeScore(row, 0, ProbeKind.SPECIFICITY, i, 0.8, 0.2));
        }
        return s;
    }

    private static EvaluationSetup setup(Dataset d, List<EvalCase> rows, EvalMode mode) {
        return new EvaluationSetup(mode, "text", Map.of("scorer", "text space"), d, "0123456789abcdef0123",
                rows, List.of(0), "fingerprint-0123456789", "tiny random", Hyperparameters.roleEdits(),
                "stats-layer7", null);
    }

    private static EvaluationResult refactRun(Dataset d, int nRows) {
        List<CellResult> cells = new ArrayList<>();
        for (int row = 0; row < nRows; row++) {
            cells.add(new CellResult(row, 0, scores(row, 0.9), scores(row, 0.1),
                    new EditSummary(12, "converged", 0.95, 1.5, 800), null, 900));
        }
        return new EvaluationResult(setup(d, d.cases().subList(0, nRows), EvalMode.REFACT), cells, List.of(),
                nRows, 0);
    }

    private static List<CSVRecord> parse(Path csv) throws IOException {
        return CSVFormat.RFC4180.parse(new StringReader(Files.readString(csv, StandardCharsets.UTF_8))).getRecords();
    }

    @Test
    void write_refactRun_reportFilesAreWrittenAndReadable() throws IOException {
        EvaluationResult r = refactRun(road, 2);
        List<Path> files = EvaluationReport.write(r, tmp);
        assertEquals(List.of(tmp.resolve("metrics.png"), tmp.resolve("report.md"), tmp.resolve("metrics.csv")), files);
        String md = Files.readString(tmp.resolve("report.md"));
        assertTrue(md.contains("paper Table 1: RoAD, ReFACT (same mode) †"), md);
        assertTrue(md.contains("| 93.38 | 86.80 | 95.44 | 91.01 |"), md);
        assertTrue(md.contains("**Not comparable:**"), md);
        assertTrue(md.contains("ours: before the edit"), md);
        assertTrue(md.contains("![metrics](metrics.png)"), md);
        List<String> csv = Files.readAllLines(tmp.resolve("metrics.csv"));
        assertTrue(csv.get(0).startsWith("source,scope,row,label,phase,cells,efficacy,efficacy_std"), csv.get(0));
        // overall after + before, 2 rows × (after + before), 4 paper lines
        assertEquals(1 + 2 + 4 + 4, csv.size(), String.join("\n", csv));
        int cols = csv.get(0).split(",", -1).length;
        String overall = csv.get(1);
        assertTrue(overall.startsWith("ours,overall,,,after,2,"), overall);
        assertEquals(cols, overall.split(",", -1).length);
        assertEquals(100 * r.metrics().overall().mean(Metric.EFFICACY), Double.parseDouble(overall.split(",")[6]),
                1e-3);
        assertTrue(csv.get(csv.size() - 4).startsWith("paper,overall,,\"Table 1: RoAD, ReFACT"), csv.get(7));
        for (CSVRecord rec : parse(tmp.resolve("metrics.csv"))) {
            assertEquals(cols, rec.size(), "every record has the header's columns: " + rec);
        }
        BufferedImage png = ImageIO.read(tmp.resolve("metrics.png").toFile());
        assertNotNull(png);
        assertEquals(1000, png.getWidth());
        assertEquals(560, png.getHeight());
        assertTrue(distinctColours(png) > 8, "the chart has bars, text and a legend");
    }

    @Test
    void write_rowImagesKeyNotARow_throwsBeforeWritingAnyFile() throws IOException {
        EvaluationResult r = refactRun(road, 2);
        Path dir = Files.createDirectories(tmp.resolve("report"));
        Files.writeString(dir.resolve("keep.txt"), "kept");
        int n = road.cases().size();
        for (int bad : new int[] {n, -1}) {
            Map<Integer, Path> images = new java.util.TreeMap<>(Map.of(0, dir.resolve("row0.png"), bad,
                    dir.resolve("bad.png")));
            IndexOutOfBoundsException e = org.junit.jupiter.api.Assertions.assertThrows(
                    IndexOutOfBoundsException.class, () -> EvaluationReport.write(r, dir, images));
            assertTrue(e.getMessage().contains("rowImages") && e.getMessage().contains("row " + bad)
                    && !e.getMessage().contains("\n"), e.getMessage());
            try (java.util.stream.Stream<Path> files = Files.list(dir)) {
                assertEquals(List.of(dir.resolve("keep.txt")), files.toList(), "no report file written");
            }
        }
        Map<Integer, Path> nullImage = new java.util.HashMap<>();
        nullImage.put(1, null);
        NullPointerException e = org.junit.jupiter.api.Assertions.assertThrows(NullPointerException.class,
                () -> EvaluationReport.write(r, dir, nullImage));
        assertTrue(e.getMessage().contains("rowImages") && e.getMessage().contains("row 1"), e.getMessage());
        Path fresh = tmp.resolve("not-created");
        org.junit.jupiter.api.Assertions.assertThrows(IndexOutOfBoundsException.class,
                () -> EvaluationReport.write(r, fresh, Map.of(n, dir.resolve("bad.png"))));
        assertFalse(Files.exists(fresh), "the folder is not created for a refused report");
    }

    @Test
    void write_labelWithCarriageReturnQuoteAndComma_isQuotedAndReadsBackExactly() throws IOException {
        String nasty = "a \"quoted\", odd\rprompt\nhere";
        List<EvalCase> cases = new ArrayList<>(road.cases());
        EvalCase c = cases.get(0);
        cases.set(0, new EvalCase(c.dataset(), c.row(), c.line(), c.type(), nasty, c.subject(), c.source(),
                c.target(), c.oraclePrompt(), c.positives(), c.negatives()));
        Dataset d = new Dataset(road.file(), road.kind(), cases, road.issues());
        EvaluationReport.write(refactRun(d, 1), tmp);
        List<CSVRecord> recs = parse(tmp.resolve("metrics.csv"));
        assertEquals(1 + 2 + 2 + 4, recs.size(), "the CR/LF inside the label do not split records");
        CSVRecord row = recs.get(3);
        assertEquals("row", row.get(1));
        assertEquals(nasty + " → " + c.target(), row.get(3));
        assertTrue(Files.readString(tmp.resolve("metrics.csv")).contains("\"a \"\"quoted\"\", odd\rprompt\nhere"));
    }

    @Test
    void write_everyCellFailed_reportsFailedCellsAndDrawsNoChart() throws IOException {
        List<CellResult> cells = List.of(new CellResult(0, 0, List.of(), List.of(), null, "edit failed: singular", 5),
                new CellResult(1, 0, List.of(), List.of(), null, "edit failed: singular", 5));
        EvaluationResult r = new EvaluationResult(setup(road, road.cases().subList(0, 2), EvalMode.REFACT), cells,
                List.of(), 2, 0);
        List<Path> files = EvaluationReport.write(r, tmp);
        assertFalse(files.contains(tmp.resolve("metrics.png")));
        String md = Files.readString(tmp.resolve("report.md"));
        assertTrue(md.contains("## Failed cells") && md.contains("No cell was scored"), md);
        assertTrue(md.contains("(Chart not drawn: no scored cells)"), md);
        assertEquals(1 + 4, Files.readAllLines(tmp.resolve("metrics.csv")).size(), "header + the paper's lines");
    }

    @Test
    void writeSequential_twoPoints_curveTableAndChart() throws IOException {
        List<ProbeScore> first = new ArrayList<>(scores(0, 0.9));
        first.addAll(scores(1, 0.8));
        List<ProbeScore> second = new ArrayList<>(first);
        second.addAll(scores(2, 0.7));
        SequentialResult r = new SequentialResult(setup(road, road.cases().subList(0, 3), EvalMode.REFACT), 2,
                List.of(new SequentialPoint(2, 2, Metrics.aggregate(first), Duration.ofMillis(1500)),
                        new SequentialPoint(3, 3, Metrics.aggregate(second), Duration.ofMillis(2500))),
                List.of(new EditSummary(10, "converged", 0.95, 1, 100), new EditSummary(10, "converged", 0.95, 1, 100),
                        new EditSummary(100, "max_steps", 0.5, 1, 100)), List.of(), List.of());
        List<Path> files = EvaluationReport.writeSequential(r, tmp);
        assertTrue(files.contains(tmp.resolve("sequential.png")), files.toString());
        List<String> csv = Files.readAllLines(tmp.resolve("sequential.csv"));
        assertEquals(3, csv.size());
        assertTrue(csv.get(0).startsWith("edits,rows_scored,elapsed_s,efficacy"), csv.get(0));
        assertTrue(csv.get(1).startsWith("2,2,1.500,"), csv.get(1));
        assertTrue(csv.get(2).startsWith("3,3,2.500,"), csv.get(2));
        assertTrue(distinctColours(ImageIO.read(tmp.resolve("sequential.png").toFile())) > 5);
        assertTrue(Files.readString(tmp.resolve("sequential.md")).contains("| 3 | 3 |"));
    }

    @Test
    void writeSweep_twoSettings_oneLineEachWithThePapersAblation() throws IOException {
        List<SweepPoint> points = new ArrayList<>();
        for (int n : new int[] {0, 2}) {
            Hyperparameters hp = Hyperparameters.roleEdits().toBuilder().layer(1).numContrastive(n).build();
            EvaluationResult e = refactRun(road, 2);
            EvaluationSetup s = e.setup();
            e = new EvaluationResult(new EvaluationSetup(s.mode(), s.space(), s.scorer(), s.dataset(),
                    s.datasetSha256(), s.rows(), s.seeds(), s.modelFingerprint(), s.modelSource(), hp,
                    s.statisticsId(), null), e.cells(), e.skipped(), 2, 0);
            points.add(new SweepPoint(1, n, hp.learningRate(), e));
        }
        SweepResult r = new SweepResult(road, road.cases().subList(0, 2), Hyperparameters.roleEdits(), points);
        List<Path> files = EvaluationReport.writeSweep(r, tmp);
        assertEquals(List.of(tmp.resolve("sweep.md"), tmp.resolve("sweep.csv")), files);
        List<String> csv = Files.readAllLines(tmp.resolve("sweep.csv"));
        assertEquals(3, csv.size());
        assertTrue(csv.get(0).startsWith("layer,n_contrastive,lr,cells,failed,efficacy"), csv.get(0));
        assertTrue(csv.get(0).endsWith(",f1_before,mean_steps,converged_share,mean_edit_ms,paper_efficacy,"
                + "paper_generalisation,paper_specificity,paper_f1"), csv.get(0));
        assertTrue(csv.get(1).startsWith("1,0,0.05,2,0,"), csv.get(1));
        assertTrue(csv.get(1).endsWith(",99.5,71.0,90.3,79.5"), "paper's N=0 ablation beside ours: " + csv.get(1));
        assertTrue(csv.get(2).endsWith(",,,,"), "the paper did not run N=2: " + csv.get(2));
        assertTrue(Files.readString(tmp.resolve("sweep.md")).contains("not comparable"));
    }

    static int distinctColours(BufferedImage img) {
        Set<Integer> c = new HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 2) {
            for (int x = 0; x < img.getWidth(); x += 2) {
                c.add(img.getRGB(x, y));
            }
        }
        return c.size();
    }
}
