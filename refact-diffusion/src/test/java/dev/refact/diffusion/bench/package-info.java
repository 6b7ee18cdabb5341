/**
 * Benchmark mains (not tests): {@link dev.refact.diffusion.bench.UNetBench} times full-size SD 1.x
 * UNet steps and VAE decoding with seeded random weights; results go to {@code docs/benchmarks.md}.
 */
package dev.refact.diffusion.bench;
