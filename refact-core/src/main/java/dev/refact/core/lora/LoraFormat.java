package dev.refact.core.lora;

import java.util.Locale;

/** Key layout of a text-encoder LoRA file. */
public enum LoraFormat {
    /**
     * kohya-ss / AUTOMATIC1111 / ComfyUI: {@code lora_te_<module with . → _>.lora_down.weight} [k, d_in],
     * {@code .lora_up.weight} [d_out, k], {@code .alpha} (scalar); SDXL {@code lora_te1_} / {@code lora_te2_}.
     */
    KOHYA,
    /**
     * PEFT / current diffusers: {@code text_encoder.<module>.lora_A.weight} [k, d_in] and {@code .lora_B.weight}
     * [d_out, k] ({@code text_encoder_2.} for SDXL's second encoder).
     */
    PEFT,
    /**
     * Older diffusers (read only): {@code text_encoder.<module>.lora_linear_layer.down.weight} /
     * {@code .up.weight}.
     */
    DIFFUSERS_LEGACY;

    /**
     * The command-line name ({@code kohya}, {@code peft}, {@code diffusers-legacy}).
     *
     * @return the constant's name in lower case with {@code -} for {@code _}
     */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /**
     * Parses a command-line name.
     *
     * @param name a {@link #cliName()}, case-insensitive
     * @return the matching format
     * @throws IllegalArgumentException for other names (the message lists the accepted ones)
     */
    public static LoraFormat parse(String name) {
        java.util.Objects.requireNonNull(name, "name");
        for (LoraFormat f : values()) {
            if (f.cliName().equals(name.toLowerCase(Locale.ROOT))) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown LoRA format '" + name + "' (expected one of "
                + java.util.Arrays.stream(values()).map(LoraFormat::cliName)
                        .collect(java.util.stream.Collectors.joining(", ")) + ")");
    }
}
