/**
 * CLIP's image side: {@link dev.refact.clip.vision.RgbImage} (decoded with Pillow's rules) and
 * {@link dev.refact.clip.vision.ClipImageProcessor} (HF {@code CLIPImageProcessor} reproduced to the
 * bit: Pillow's fixed-point bicubic resize, center crop, rescale, normalize), configured by
 * {@link dev.refact.clip.vision.ImageProcessorConfig}.
 */
package dev.refact.clip.vision;
