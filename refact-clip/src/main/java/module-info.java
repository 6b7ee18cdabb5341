/**
 * CLIP tokenizer, text and vision encoders on JavaCPP PyTorch; safetensors/NPY checkpoint I/O.
 *
 * <p>API packages are exported. {@code dev.refact.clip.torch} (native loading, tensor copies) is internal:
 * exported only to the other refact-java modules. Rule: a new API package must be added here.
 */
module dev.refact.clip {
    requires transitive org.bytedeco.pytorch;   // Tensor, Device appear in public signatures
    requires transitive org.bytedeco.javacpp;   // PointerScope ownership in public signatures
    requires com.google.gson;
    requires transitive java.desktop;           // dev.refact.clip.vision: ImageIO decoding, BufferedImage in RgbImage

    exports dev.refact.clip;
    exports dev.refact.clip.io;
    exports dev.refact.clip.tokenizer;
    exports dev.refact.clip.vision;
    exports dev.refact.clip.torch to dev.refact.core, dev.refact.diffusion, dev.refact.report;
}
