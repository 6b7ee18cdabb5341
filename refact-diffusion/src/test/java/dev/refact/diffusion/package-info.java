/**
 * Tests of the diffusion port against the diffusers v0.14 goldens of the {@code tiny-sd-pipe}
 * fixture (read in place from {@code ../shared/data}); {@link dev.refact.diffusion.Golden} loads them.
 */
package dev.refact.diffusion;
