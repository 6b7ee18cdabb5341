package dev.refact.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.testing.SharedData;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Progress output: bars on a terminal, plain lines otherwise, nothing with --quiet. */
final class ProgressTest {
    @TempDir
    Path tmp;

    @AfterEach
    void reset() {
        Progress.setInteractive(false);
        Progress.setQuiet(false);
    }

    @Test
    void progress_notATerminal_plainLinesWithRateAndEta() {
        Progress.setInteractive(false);
        StringWriter w = new StringWriter();
        try (Progress p = Progress.start(new PrintWriter(w), "denoising", 3, "steps")) {
            p.stepTo(1);
            p.stepTo(2);
            p.stepTo(3);
        }
        List<String> lines = w.toString().lines().toList();
        assertTrue(lines.size() >= 2 && lines.size() <= 3, w.toString()); // first, (throttled), always the last
        String last = lines.get(lines.size() - 1);
        assertTrue(last.startsWith("refact: denoising 3/3 (100%), "), last);
        assertTrue(last.contains(" steps/s, ETA 0.0 s"), last);
        assertFalse(w.toString().contains("\r"), w.toString());
    }

    @Test
    void progress_terminal_drawsBarOnStderr() {
        PrintStream saved = System.err;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        StringWriter w = new StringWriter();
        try {
            System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
            Progress.setInteractive(true);
            try (Progress p = Progress.start(new PrintWriter(w), "cells", 4, "cells")) {
                p.stepTo(2);
                p.stepTo(4);
            }
        } finally {
            System.setErr(saved);
        }
        String bar = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(bar.contains("refact: cells") && bar.contains("4/4") && bar.contains("\r"), bar);
        assertTrue(bar.contains("cells/s"), bar);
        assertEquals("", w.toString()); // no plain lines besides the bar
    }

    @Test
    void quietOption_suppressesProgress_plainOtherwise() throws Exception {
        Path prompts = Files.write(tmp.resolve("p.txt"), List.of("a photo of a cat", "a dog"));
        String model = SharedData.resolve("models/tiny-random-clip-text").toString();
        String tok = SharedData.resolve("clip-tokenizer").toString();
        StatsCommandTest.Run loud = StatsCommandTest.run("encode", "--model", model, "--tokenizer", tok, "--prompts",
                prompts.toString(), "--out", tmp.resolve("a.safetensors").toString());
        assertEquals(0, loud.code(), loud.err());
        assertTrue(loud.err().contains("refact: encode 2/2 (100%)"), loud.err());
        StatsCommandTest.Run quiet = StatsCommandTest.run("encode", "--quiet", "--model", model, "--tokenizer", tok,
                "--prompts", prompts.toString(), "--out", tmp.resolve("b.safetensors").toString());
        assertEquals(0, quiet.code(), quiet.err());
        assertFalse(quiet.err().contains("refact: encode"), quiet.err());
        // the flag does not leak into the next in-process run
        StatsCommandTest.Run again = StatsCommandTest.run("encode", "--model", model, "--tokenizer", tok, "--prompts",
                prompts.toString(), "--out", tmp.resolve("c.safetensors").toString());
        assertTrue(again.err().contains("refact: encode 2/2"), again.err());
    }
}
