package dev.refact.clip;

import dev.refact.clip.tokenizer.Padding;

/**
 * Which Stable Diffusion text encoder a checkpoint holds, as detected from its tensor names and shapes
 * (see {@code docs/interop.md}, "Loading"). It decides what cannot be read from the weights: the
 * activation and layer count when no {@code config.json} exists, and how prompts are padded.
 */
public enum TextEncoderFamily {
    /** SD 1.x: OpenAI CLIP ViT-L/14 text tower (12 × 768, quick_gelu); prompts pad with the end token 49407. */
    SD1(Padding.END_TOKEN),
    /**
     * SD 2.x: OpenCLIP ViT-H/14 text tower (gelu), loaded without its last block because SD 2.x conditions on
     * the penultimate block (as diffusers' conversion builds a 23-layer {@code CLIPTextModel}); pads with 0.
     */
    SD2(Padding.ZERO),
    /** SDXL's first encoder: CLIP ViT-L/14 text tower (as SD 1.x, no projection); pads with the end token. */
    SDXL_1(Padding.END_TOKEN),
    /** SDXL's second encoder: OpenCLIP bigG/14 text tower (32 × 1280, gelu) with its projection; pads with 0. */
    SDXL_2(Padding.ZERO);

    private final Padding padding;

    TextEncoderFamily(Padding padding) {
        this.padding = padding;
    }

    /**
     * How the family's own pipeline pads prompts to 77 tokens.
     *
     * @return {@link Padding#END_TOKEN} (SD 1.x, SDXL encoder 1) or {@link Padding#ZERO} (SD 2.x, SDXL encoder 2)
     */
    public Padding padding() {
        return padding;
    }

    /**
     * The family of text encoder {@code encoder} (1, or 2 for SDXL) of a checkpoint, reading only headers and
     * config files (cheap).
     *
     * @param checkpoint a checkpoint folder or single file, as for {@link ClipTextModel#load(java.nio.file.Path)}
     * @param encoder    1, or 2 for SDXL's second encoder
     * @return the detected family
     * @throws dev.refact.clip.io.CheckpointFormatException if no supported layout fits (names the keys)
     * @throws IllegalArgumentException                     if {@code encoder} is not 1 or 2
     * @throws java.io.IOException if a header or config file cannot be read
     */
    public static TextEncoderFamily detect(java.nio.file.Path checkpoint, int encoder) throws java.io.IOException {
        return TextEncoderCheckpoint.resolve(checkpoint, encoder).family();
    }

    /**
     * True for the OpenCLIP-trained towers (SD 2.x, SDXL encoder 2), whose activation is exact gelu.
     *
     * @return true for {@link #SD2} and {@link #SDXL_2}
     */
    public boolean isOpenClip() {
        return this == SD2 || this == SDXL_2;
    }
}
