package dev.refact.diffusion;

import java.awt.image.BufferedImage;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * The result of one run: final latents and decoded images. Owns its tensors; close it.
 */
public final class Generation implements AutoCloseable {
    private final Tensor latents;
    private final Tensor image;
    private boolean closed;

    Generation(Tensor latents, Tensor image) {
        this.latents = latents;
        this.image = image;
    }

    /**
     * Final latents [b, 4, H/8, W/8] float32 (diffusers: what {@code output_type='latent'} returns).
     *
     * @return the latents on the UNet's device, owned by this result (valid until {@link #close()}; do not close)
     * @throws IllegalStateException if this result is closed
     */
    public Tensor latents() {
        check();
        return latents;
    }

    /**
     * Decoded images [b, 3, H, W] float32, clamped to [-1, 1].
     *
     * @return the images, owned by this result (valid until {@link #close()}; do not close)
     * @throws IllegalStateException if this result is closed
     */
    public Tensor image() {
        check();
        return image;
    }

    /**
     * The images as 8-bit RGB, rounded as diffusers' {@code numpy_to_pil} does.
     *
     * @return one new {@code TYPE_INT_RGB} image of W×H pixels per batch row, in batch order
     * @throws IllegalStateException if this result is closed
     */
    public List<BufferedImage> toImages() {
        check();
        return Images.toBufferedImages(image);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            latents.close();
            image.close();
        }
    }

    private void check() {
        if (closed) {
            throw new IllegalStateException("Generation is closed");
        }
    }
}
