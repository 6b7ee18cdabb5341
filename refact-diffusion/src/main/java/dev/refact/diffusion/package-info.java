/**
 * Optional Stable Diffusion 1.x image pipeline (UNet, VAE, schedulers) that consumes a possibly
 * edited CLIP text encoder.
 */
package dev.refact.diffusion;
