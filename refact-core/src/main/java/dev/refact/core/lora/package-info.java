/**
 * ReFACT edits as LoRA files, and LoRA files merged into a text encoder.
 *
 * <p>An edit {@code ΔW = r uᵀ} of an {@code mlp.fc2} weight [d_out, d_in] is exactly a rank-1 LoRA
 * ({@code down}/{@code A} = uᵀ [1, d_in], {@code up}/{@code B} = r [d_out, 1}); k edits of one weight stack into
 * rank k without approximation. {@link LoraExporter} writes such files in the kohya layout (AUTOMATIC1111,
 * ComfyUI, diffusers' kohya loader) or the PEFT layout (diffusers {@code load_lora_weights}); {@link LoraFile}
 * reads kohya, PEFT and older diffusers text-encoder LoRAs and merges them into a
 * {@link dev.refact.clip.ClipTextModel}. Edit files are read with {@link EditDelta#read}, which accepts single
 * edits ({@code refact.kind = edit}) and joint edits ({@code refact.kind = joint_edit}).
 *
 * <p>No JavaCPP type appears in this package's public signatures, so it is usable from JShell with plain arrays.
 */
package dev.refact.core.lora;
