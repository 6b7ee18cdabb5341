package dev.refact.clip.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.testing.SharedData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Locating weights in model folders, sharded checkpoints, and refusing pickle. */
final class CheckpointsTest {
    @TempDir
    Path dir;

    private static void assertPickleRefusal(CheckpointFormatException e, Path named) {
        String m = e.getMessage();
        assertTrue(m.startsWith(named.toString()), m);
        assertTrue(m.contains("execute arbitrary code"), m);
        assertTrue(m.contains("save_file(torch.load(p, weights_only=True), 'model.safetensors')"), m);
        assertTrue(m.contains("save_pretrained(out_dir, safe_serialization=True)"), m);
    }

    @Test
    void findWeights_pickleOnlyFolder_throwsExplainingConversion() throws IOException {
        Files.write(dir.resolve("pytorch_model.bin"), new byte[] {(byte) 0x80, 2});
        Files.writeString(dir.resolve("config.json"), "{}");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> Checkpoints.findWeights(dir, "model"));
        assertPickleRefusal(e, dir);
        assertTrue(e.getMessage().contains("pytorch_model.bin"), e.getMessage());
    }

    @Test
    void weightFiles_ckptOnlyFolder_throwsExplainingConversion() throws IOException {
        Files.write(dir.resolve("v1-5-pruned.ckpt"), new byte[] {1});
        assertPickleRefusal(assertThrows(CheckpointFormatException.class, () -> Checkpoints.weightFiles(dir)), dir);
    }

    @Test
    void refusePickle_ptFile_throws() throws IOException {
        Path pt = Files.write(dir.resolve("weights.pt"), new byte[] {1});
        assertPickleRefusal(assertThrows(CheckpointFormatException.class, () -> Checkpoints.refusePickle(pt)), pt);
        assertPickleRefusal(assertThrows(CheckpointFormatException.class, () -> SafetensorsCheckpoint.open(pt)), pt);
    }

    @Test
    void refusePickle_folderWithSafetensorsBesidePickle_returns() throws IOException {
        Files.write(dir.resolve("pytorch_model.bin"), new byte[] {1});
        new SafetensorsWriter().addFloats("w", new float[] {1}, 1).write(dir.resolve("model.safetensors"));
        Checkpoints.refusePickle(dir);
        assertEquals(dir.resolve("model.safetensors"), Checkpoints.findWeights(dir, "model"));
        assertEquals(List.of(dir.resolve("model.safetensors")), Checkpoints.weightFiles(dir));
    }

    @Test
    void findWeights_sharedFixtureFolders_findSafetensors() throws IOException {
        Path unet = SharedData.resolve("models/tiny-sd-pipe/unet");
        assertEquals(unet.resolve("diffusion_pytorch_model.safetensors"),
                Checkpoints.findWeights(unet, "diffusion_pytorch_model"));
        Path clip = SharedData.resolve("models/tiny-random-clip-text");
        // two safetensors files here (model + golden): the standard name wins
        assertEquals(List.of(clip.resolve("model.safetensors")), Checkpoints.weightFiles(clip));
    }

    @Test
    void findWeights_emptyFolder_throwsListingContents() throws IOException {
        Files.writeString(dir.resolve("config.json"), "{}");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> Checkpoints.findWeights(dir, "model"));
        assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("model.safetensors"), e.getMessage());
    }

    @Test
    void weightFiles_ambiguousFiles_throwsListingThem() throws IOException {
        new SafetensorsWriter().write(dir.resolve("a.safetensors"));
        new SafetensorsWriter().write(dir.resolve("b.safetensors"));
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> Checkpoints.weightFiles(dir));
        assertTrue(e.getMessage().contains("a.safetensors, b.safetensors"), e.getMessage());
    }

    private Path writeSharded() throws IOException {
        new SafetensorsWriter().addFloats("layer.0.weight", new float[] {1, 2}, 2)
                .addFloats("layer.1.weight", new float[] {3, 4}, 2)
                .write(dir.resolve("model-00001-of-00002.safetensors"));
        new SafetensorsWriter().addFloats("layer.2.weight", new float[] {5, 6}, 2)
                .addLongs("position_ids", new long[] {0, 1, 2}, 1, 3)
                .write(dir.resolve("model-00002-of-00002.safetensors"));
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"metadata\": {\"total_size\": 48},"
                + " \"weight_map\": {\"layer.0.weight\": \"model-00001-of-00002.safetensors\","
                + " \"layer.1.weight\": \"model-00001-of-00002.safetensors\","
                + " \"layer.2.weight\": \"model-00002-of-00002.safetensors\","
                + " \"position_ids\": \"model-00002-of-00002.safetensors\"}}");
        return dir.resolve("model.safetensors.index.json");
    }

    @Test
    void open_shardedFolder_readsAcrossShards() throws IOException {
        Path index = writeSharded();
        assertEquals(index, Checkpoints.findWeights(dir, "model"));
        assertEquals(List.of(dir.resolve("model-00001-of-00002.safetensors"), dir.resolve("model-00002-of-00002.safetensors")),
                Checkpoints.weightFiles(dir));
        for (Path source : new Path[] {dir, index}) {
            try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(source)) {
                assertEquals(4, c.names().size());
                assertArrayEquals(new float[] {5, 6}, c.readFloats("layer.2.weight"));
                assertArrayEquals(new long[] {0, 1, 2}, c.readLongs("position_ids"));
                assertEquals("model-00001-of-00002.safetensors", c.fileOf("layer.1.weight").path().getFileName().toString());
                assertThrows(IllegalArgumentException.class, () -> c.info("layer.3.weight"));
            }
        }
    }

    @Test
    void open_indexPointingAtWrongShard_throwsNamingTensor() throws IOException {
        Path index = writeSharded();
        Files.writeString(index, Files.readString(index).replace(
                "\"layer.2.weight\": \"model-00002-of-00002.safetensors\"",
                "\"layer.2.weight\": \"model-00001-of-00002.safetensors\""));
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> SafetensorsCheckpoint.open(dir));
        assertTrue(e.getMessage().contains("'layer.2.weight'"), e.getMessage());
    }

    @Test
    void open_indexWithMissingShard_throwsNamingShard() throws IOException {
        writeSharded();
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> Checkpoints.weightFiles(dir));
        assertTrue(e.getMessage().contains("model-00002-of-00002.safetensors") && e.getMessage().contains("missing"),
                e.getMessage());
    }

    @Test
    void open_indexEscapingTheFolder_throws() throws IOException {
        Path index = writeSharded();
        Files.writeString(index, "{\"weight_map\": {\"x\": \"../model-00001-of-00002.safetensors\"}}");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> SafetensorsCheckpoint.open(index));
        assertTrue(e.getMessage().contains("plain file name"), e.getMessage());
    }

    @Test
    void open_tensorInTwoShards_throwsNamingBoth() throws IOException {
        new SafetensorsWriter().addFloats("w", new float[] {1}, 1).write(dir.resolve("m-00001-of-00002.safetensors"));
        new SafetensorsWriter().addFloats("w", new float[] {2}, 1).write(dir.resolve("m-00002-of-00002.safetensors"));
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> SafetensorsCheckpoint.open(dir));
        assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("m-00001-of-00002.safetensors"), e.getMessage());
    }

    @Test
    void open_malformedIndex_throwsNamingIndex() throws IOException {
        Path index = writeSharded();
        Files.writeString(index, "{\"weight_map\": [");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> Checkpoints.weightFiles(dir));
        assertTrue(e.getMessage().startsWith(index.toString()), e.getMessage());
    }

    @Test
    void open_cleanupCloseFails_closesEveryShardAndKeepsTheOriginalError() {
        // open()'s cleanup after a bad shard: a shard whose close fails must neither hide the original error nor
        // leave the shards after it open
        List<String> closed = new java.util.ArrayList<>();
        AutoCloseable failing = () -> {
            closed.add("first");
            throw new IOException("close failed");
        };
        AutoCloseable second = () -> closed.add("second");
        CheckpointFormatException original = new CheckpointFormatException(dir, "bad shard");
        SafetensorsCheckpoint.closeAfterFailure(List.of(failing, second), original);
        assertEquals(List.of("first", "second"), closed);
        assertEquals(1, original.getSuppressed().length);
        assertEquals("close failed", original.getSuppressed()[0].getMessage());
    }

    @Test
    void open_secondShardCorrupt_throwsNamingIt() throws IOException {
        new SafetensorsWriter().addFloats("a", new float[] {1}, 1).write(dir.resolve("m-00001-of-00002.safetensors"));
        Files.write(dir.resolve("m-00002-of-00002.safetensors"), new byte[] {1, 2, 3});
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> SafetensorsCheckpoint.open(dir));
        assertTrue(e.getMessage().contains("m-00002-of-00002.safetensors"), e.getMessage());
    }
}
