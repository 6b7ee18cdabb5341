package dev.refact.core.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

final class StatsOptionsTest {
    @Test
    void defaults_matchThePaper() {
        StatsOptions o = StatsOptions.defaults();
        assertEquals(16, o.batchSize());
        assertEquals(60, o.maxTokens());
        assertEquals(100_000, o.sampleLimit());
        assertEquals("corpus", o.corpusName());
        assertNull(o.checkpoint());
    }

    @Test
    void builder_invalidValues_throwWhenSet() {
        StatsOptions.Builder b = StatsOptions.builder();
        assertThrows(IllegalArgumentException.class, () -> b.batchSize(0));
        assertThrows(IllegalArgumentException.class, () -> b.maxTokens(1));
        assertThrows(IllegalArgumentException.class, () -> b.sampleLimit(0));
        assertThrows(IllegalArgumentException.class, () -> b.corpusName(" "));
        assertThrows(NullPointerException.class, () -> b.corpusName(null));
        assertThrows(IllegalArgumentException.class, () -> b.checkpointEvery(0));
        assertThrows(IllegalArgumentException.class, () -> new StatsOptions(1, 1, 1, "c", null, 1));
    }

    @Test
    void toBuilder_copiesEveryField() {
        StatsOptions o = StatsOptions.builder().batchSize(3).maxTokens(20).sampleLimit(9).corpusName("x")
                .checkpoint(Path.of("c.safetensors")).checkpointEvery(4).build();
        assertEquals(o, o.toBuilder().build());
    }
}
