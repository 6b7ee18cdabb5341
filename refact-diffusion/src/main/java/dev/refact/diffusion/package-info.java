/**
 * Optional Stable Diffusion 1.x image pipeline that consumes a possibly edited CLIP text encoder:
 * a port of diffusers v0.14 loading diffusers folders directly.
 *
 * <p>Start at {@link dev.refact.diffusion.StableDiffusionPipeline} (load a folder, {@code generate}
 * images from prompts through a {@link dev.refact.diffusion.ClipPromptEncoder} or from given text
 * states) with {@link dev.refact.diffusion.GenerationOptions}. The models are
 * {@link dev.refact.diffusion.UNet2DConditionModel} and {@link dev.refact.diffusion.AutoencoderKL}
 * (configs {@link dev.refact.diffusion.UNetConfig}, {@link dev.refact.diffusion.VaeConfig});
 * schedulers come from {@link dev.refact.diffusion.Scheduler#create}. {@link dev.refact.diffusion.Images}
 * writes PNGs and {@link dev.refact.diffusion.ImageGrid} composes labelled before/after grids.
 *
 * <p>Every type holding tensors is {@link java.lang.AutoCloseable}. Methods returning a tensor attach
 * it to the caller's current {@link org.bytedeco.javacpp.PointerScope} when there is one, and
 * otherwise hand the caller one reference to close.
 */
package dev.refact.diffusion;
