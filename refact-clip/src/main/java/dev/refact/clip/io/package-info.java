/**
 * Checkpoint I/O without third-party readers: safetensors (memory-mapped, strictly validated
 * header), a safetensors writer (atomic, byte-compatible with Python {@code safetensors}), NPY/NPZ
 * arrays (for ROME/ReFACT covariance statistics) and the refusal of pickle checkpoints.
 *
 * <p>Start at {@link dev.refact.clip.io.SafetensorsFile#open(java.nio.file.Path)} (one file) or
 * {@link dev.refact.clip.io.SafetensorsCheckpoint#open(java.nio.file.Path)} (a folder, possibly
 * sharded); write with {@link dev.refact.clip.io.SafetensorsWriter}; read statistics with
 * {@link dev.refact.clip.io.Npz}. Every malformed file is reported as a
 * {@link dev.refact.clip.io.CheckpointFormatException} naming the file and, where there is one,
 * the tensor. Formats and limits are described in {@code docs/formats.md}.
 */
package dev.refact.clip.io;
