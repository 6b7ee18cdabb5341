/**
 * Tests of the CLIP tokenizer: goldens from {@code shared/data/clip-tokenizer}, checked-in reference
 * cases, ftfy fixes, subject location, loading errors, fuzzing; plus {@code TokenizerBenchmark} (a main).
 */
package dev.refact.clip.tokenizer;
