/** The optional Stable Diffusion 1.x pipeline (UNet, VAE, schedulers). Rule: a new API package must be added here. */
module dev.refact.diffusion {
    requires transitive dev.refact.clip;
    requires com.google.gson;
    requires java.desktop;    // PNG writing of generated images

    exports dev.refact.diffusion;
}
