package dev.refact.core;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.core.stats.CovarianceStats;
import java.io.IOException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Base of the editor tests on the tiny fixture: one model, its tokenizer and layer-1 statistics (damping 0.01) per
 * test class, loaded before the first test and closed after the last.
 */
abstract class TinyModelTest {
    static ClipTokenizer tokenizer;
    static ClipTextModel model;
    static CovarianceStats stats;

    @BeforeAll
    static void loadTinyModel() throws IOException {
        tokenizer = TinyFixture.tokenizer();
        model = TinyFixture.model();
        stats = TinyFixture.stats(model, tokenizer, 1, 0.01);
    }

    @AfterAll
    static void closeTinyModel() {
        stats.close();
        model.close();
    }
}
