/** Tests of image decoding, Pillow-exact resizing and CLIP preprocessing against the tiny-clip-full goldens. */
package dev.refact.clip.vision;
