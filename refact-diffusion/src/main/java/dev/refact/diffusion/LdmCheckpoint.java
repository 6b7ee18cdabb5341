package dev.refact.diffusion;

import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.io.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The UNet and VAE of a Stable Diffusion 1.x single-file checkpoint (original LDM layout, e.g.
 * {@code v1-5-pruned-emaonly.safetensors}): diffusers names mapped to LDM names, and configs inferred from tensor
 * shapes with SD 1.x defaults for what shapes do not tell (8 attention heads per level, GroupNorm 32, VAE scaling
 * factor 0.18215). The mapping is that of diffusers' single-file conversion:
 * <ul>
 *   <li>UNet ({@code model.diffusion_model.}): {@code time_embed.0/2} → {@code time_embedding.linear_1/2},
 *       {@code input_blocks.0.0} → {@code conv_in}; for level b, layer j of L:
 *       {@code input_blocks.(1 + b(L+1) + j).0/1} → {@code down_blocks.b.resnets/attentions.j},
 *       {@code input_blocks.(1 + b(L+1) + L).0.op} → {@code down_blocks.b.downsamplers.0.conv};
 *       {@code middle_block.0/1/2} → {@code mid_block.resnets.0/attentions.0/resnets.1};
 *       {@code output_blocks.(b(L+1) + j).0/1} → {@code up_blocks.b.resnets/attentions.j} (j ≤ L), the upsampler
 *       at index 1 or 2 (after the attention) of the block's last entry; {@code out.0/2} →
 *       {@code conv_norm_out/conv_out}. Inside resnets {@code in_layers.0/2}, {@code out_layers.0/3},
 *       {@code emb_layers.1}, {@code skip_connection} → {@code norm1/conv1}, {@code norm2/conv2},
 *       {@code time_emb_proj}, {@code conv_shortcut}; transformer names are unchanged.</li>
 *   <li>VAE ({@code first_stage_model.}): {@code encoder.down.b.block.j} → {@code encoder.down_blocks.b.resnets.j},
 *       {@code .downsample} → {@code .downsamplers.0}, {@code decoder.up.(n-1-b)} → {@code decoder.up_blocks.b}
 *       ({@code .block}, {@code .upsample}), {@code mid.block_1/2} → {@code mid_block.resnets.0/1},
 *       {@code mid.attn_1.norm/q/k/v/proj_out} → {@code mid_block.attentions.0.group_norm/to_q/to_k/to_v/to_out.0}
 *       (1x1-conv kernels [c, c, 1, 1] reshaped to linear [c, c]), {@code norm_out} → {@code conv_norm_out},
 *       {@code nin_shortcut} → {@code conv_shortcut}.</li>
 * </ul>
 * Other tensors of the file (text encoder, {@code model_ema.*}, {@code alphas_cumprod}, a VAE's training
 * {@code first_stage_model.loss.*}, …) are ignored: a file with both EMA and non-EMA weights is read with the
 * non-EMA ones under {@code model.diffusion_model.}, as diffusers does by default. SD 2.x (linear transformer
 * projections) and SDXL ({@code label_emb}) UNets are refused by name.
 */
final class LdmCheckpoint {
    static final String UNET = "model.diffusion_model.";
    static final String VAE = "first_stage_model.";

    /** Whether a file tensor belongs to the VAE (not e.g. its training loss). */
    static boolean isVaeWeight(String n) {
        return n.startsWith(VAE + "encoder.") || n.startsWith(VAE + "decoder.") || n.startsWith(VAE + "quant_conv.")
                || n.startsWith(VAE + "post_quant_conv.");
    }

    private LdmCheckpoint() {
    }

    /** Whether {@code path} is a safetensors file with an LDM UNet ({@code model.diffusion_model.*}). */
    static boolean isSingleFile(Path path) throws IOException {
        if (!Files.isRegularFile(path)) {
            return false;
        }
        try (SafetensorsFile sf = SafetensorsFile.open(path)) {
            return sf.contains(UNET + "input_blocks.0.0.weight");
        }
    }

    private static long[] shape(SafetensorsFile sf, String name) throws CheckpointFormatException {
        if (!sf.contains(name)) {
            throw new CheckpointFormatException(sf.path(), name, "missing (not a Stable Diffusion 1.x single file?)");
        }
        return sf.info(name).shape();
    }

    /** Block indices above this are refused: far above any SD UNet/VAE (SD 1.x has 12 input blocks). */
    private static final int MAX_BLOCK_INDEX = 1024;

    /**
     * One more than the largest index after {@code prefix} among the tensor names (0 if none).
     *
     * @throws CheckpointFormatException for an index above {@value #MAX_BLOCK_INDEX}, before anything is sized by it
     */
    private static int count(SafetensorsFile sf, String prefix, Pattern indexAfter) throws CheckpointFormatException {
        int max = -1;
        for (String n : sf.names()) {
            if (n.startsWith(prefix)) {
                Matcher m = indexAfter.matcher(n.substring(prefix.length()));
                if (m.lookingAt()) {
                    String digits = m.group(1);
                    if (digits.length() > 4 || Integer.parseInt(digits) > MAX_BLOCK_INDEX) {
                        throw new CheckpointFormatException(sf.path(), n, "block index " + digits + " is out of range "
                                + "(at most " + MAX_BLOCK_INDEX + ")");
                    }
                    max = Math.max(max, Integer.parseInt(digits));
                }
            }
        }
        return max + 1;
    }

    private static final Pattern LEADING_INDEX = Pattern.compile("(\\d+)\\.");

    /** The UNet architecture from tensor shapes (SD 1.x defaults for the rest). */
    static UNetConfig unetConfig(SafetensorsFile sf) throws CheckpointFormatException {
        if (sf.contains(UNET + "label_emb.0.0.weight")) {
            throw new CheckpointFormatException(sf.path(), "is an SDXL checkpoint (model.diffusion_model.label_emb): "
                    + "refact-diffusion generates with Stable Diffusion 1.x UNets only");
        }
        for (String n : sf.names()) {
            if (n.startsWith(UNET) && n.endsWith(".proj_in.weight") && sf.info(n).shape().length == 2) {
                throw new CheckpointFormatException(sf.path(), n, "is a linear projection, as in Stable Diffusion "
                        + "2.x: refact-diffusion generates with Stable Diffusion 1.x UNets only");
            }
        }
        long[] convIn = shape(sf, UNET + "input_blocks.0.0.weight");
        long[] convOut = shape(sf, UNET + "out.2.weight");
        int inputs = count(sf, UNET + "input_blocks.", LEADING_INDEX);
        int downsamplers = 0;
        for (int i = 0; i < inputs; i++) {
            if (sf.contains(UNET + "input_blocks." + i + ".0.op.weight")) {
                downsamplers++;
            }
        }
        int n = downsamplers + 1;
        if (inputs % n != 0) {
            throw new CheckpointFormatException(sf.path(), inputs + " input_blocks do not divide into " + n
                    + " levels");
        }
        int layers = inputs / n - 1;
        int outputs = count(sf, UNET + "output_blocks.", LEADING_INDEX);
        if (layers < 1 || outputs != n * (layers + 1)) {
            throw new CheckpointFormatException(sf.path(), "UNet has " + inputs + " input_blocks and " + outputs
                    + " output_blocks, which is not an SD 1.x UNet with " + n + " levels");
        }
        List<Integer> boc = new ArrayList<>();
        List<String> down = new ArrayList<>();
        List<String> up = new ArrayList<>();
        long cross = -1;
        for (int b = 0; b < n; b++) {
            int i = 1 + b * (layers + 1);
            boc.add((int) shape(sf, UNET + "input_blocks." + i + ".0.out_layers.3.weight")[0]);
            boolean attn = sf.contains(UNET + "input_blocks." + i + ".1.proj_in.weight");
            down.add(attn ? "CrossAttnDownBlock2D" : "DownBlock2D");
            if (attn) {
                cross = shape(sf, UNET + "input_blocks." + i + ".1.transformer_blocks.0.attn2.to_k.weight")[1];
            }
            boolean upAttn = sf.contains(UNET + "output_blocks." + b * (layers + 1) + ".1.proj_in.weight");
            up.add(upAttn ? "CrossAttnUpBlock2D" : "UpBlock2D");
        }
        if (cross < 0) {
            cross = shape(sf, UNET + "middle_block.1.transformer_blocks.0.attn2.to_k.weight")[1];
        }
        UNetConfig sd = UNetConfig.stableDiffusion1();
        return new UNetConfig((int) convIn[1], (int) convOut[0], boc, layers, down, up,
                Collections.nCopies(n, 8), (int) cross, sd.normNumGroups(), sd.normEps(), sd.flipSinToCos(),
                sd.freqShift(), false, Collections.nCopies(n, false), false, sd.downsamplePadding(),
                sd.midBlockScaleFactor(), (int) convIn[2], (int) convOut[2], false, sd.sampleSize());
    }

    /** The VAE architecture from tensor shapes (SD 1.x defaults for the rest). */
    static VaeConfig vaeConfig(SafetensorsFile sf) throws CheckpointFormatException {
        long[] convIn = shape(sf, VAE + "encoder.conv_in.weight");
        long[] decOut = shape(sf, VAE + "decoder.conv_out.weight");
        long[] postQuant = shape(sf, VAE + "post_quant_conv.weight");
        int n = count(sf, VAE + "encoder.down.", LEADING_INDEX);
        int layers = count(sf, VAE + "encoder.down.0.block.", LEADING_INDEX);
        if (n < 1 || layers < 1) {
            throw new CheckpointFormatException(sf.path(), "first_stage_model has no encoder.down.N.block.M tensors");
        }
        List<Integer> boc = new ArrayList<>();
        for (int b = 0; b < n; b++) {
            boc.add((int) shape(sf, VAE + "encoder.down." + b + ".block.0.conv2.weight")[0]);
        }
        VaeConfig sd = VaeConfig.stableDiffusion1();
        return new VaeConfig((int) convIn[1], (int) decOut[0], (int) postQuant[0], boc, layers, sd.normNumGroups(),
                sd.scalingFactor());
    }

    private static final Pattern DOWN = Pattern.compile("down_blocks\\.(\\d+)\\.(resnets|attentions)\\.(\\d+)\\.(.+)");
    private static final Pattern DOWNSAMPLE = Pattern.compile("down_blocks\\.(\\d+)\\.downsamplers\\.0\\.conv\\.(.+)");
    private static final Pattern MID = Pattern.compile("mid_block\\.(resnets|attentions)\\.(\\d+)\\.(.+)");
    private static final Pattern UP = Pattern.compile("up_blocks\\.(\\d+)\\.(resnets|attentions)\\.(\\d+)\\.(.+)");
    private static final Pattern UPSAMPLE = Pattern.compile("up_blocks\\.(\\d+)\\.upsamplers\\.0\\.conv\\.(.+)");

    /** The LDM name (with prefix) of a diffusers UNet parameter, or {@code null}. */
    static String unetName(UNetConfig c, String name) {
        int step = c.layersPerBlock() + 1;
        String fixed = switch (name) {
            case "time_embedding.linear_1.weight" -> "time_embed.0.weight";
            case "time_embedding.linear_1.bias" -> "time_embed.0.bias";
            case "time_embedding.linear_2.weight" -> "time_embed.2.weight";
            case "time_embedding.linear_2.bias" -> "time_embed.2.bias";
            case "conv_in.weight" -> "input_blocks.0.0.weight";
            case "conv_in.bias" -> "input_blocks.0.0.bias";
            case "conv_norm_out.weight" -> "out.0.weight";
            case "conv_norm_out.bias" -> "out.0.bias";
            case "conv_out.weight" -> "out.2.weight";
            case "conv_out.bias" -> "out.2.bias";
            default -> null;
        };
        if (fixed != null) {
            return UNET + fixed;
        }
        Matcher m = DOWN.matcher(name);
        if (m.matches()) {
            int i = 1 + Integer.parseInt(m.group(1)) * step + Integer.parseInt(m.group(3));
            boolean resnet = m.group(2).equals("resnets");
            return UNET + "input_blocks." + i + (resnet ? ".0." + resnet(m.group(4)) : ".1." + m.group(4));
        }
        m = DOWNSAMPLE.matcher(name);
        if (m.matches()) {
            int i = 1 + Integer.parseInt(m.group(1)) * step + c.layersPerBlock();
            return UNET + "input_blocks." + i + ".0.op." + m.group(2);
        }
        m = MID.matcher(name);
        if (m.matches()) {
            boolean resnet = m.group(1).equals("resnets");
            int idx = resnet ? 2 * Integer.parseInt(m.group(2)) : 1;
            return UNET + "middle_block." + idx + "." + (resnet ? resnet(m.group(3)) : m.group(3));
        }
        m = UP.matcher(name);
        if (m.matches()) {
            int i = Integer.parseInt(m.group(1)) * step + Integer.parseInt(m.group(3));
            boolean resnet = m.group(2).equals("resnets");
            return UNET + "output_blocks." + i + (resnet ? ".0." + resnet(m.group(4)) : ".1." + m.group(4));
        }
        m = UPSAMPLE.matcher(name);
        if (m.matches()) {
            int b = Integer.parseInt(m.group(1));
            boolean attn = c.upBlockTypes().get(b).equals("CrossAttnUpBlock2D");
            return UNET + "output_blocks." + (b * step + c.layersPerBlock()) + (attn ? ".2" : ".1") + ".conv."
                    + m.group(2);
        }
        return null;
    }

    private static String resnet(String rest) {
        String[][] map = {
            {"norm1.", "in_layers.0."}, {"conv1.", "in_layers.2."}, {"norm2.", "out_layers.0."},
            {"conv2.", "out_layers.3."}, {"time_emb_proj.", "emb_layers.1."}, {"conv_shortcut.", "skip_connection."},
        };
        for (String[] p : map) {
            if (rest.startsWith(p[0])) {
                return p[1] + rest.substring(p[0].length());
            }
        }
        return rest;
    }

    private static final Pattern VAE_DOWN = Pattern.compile("encoder\\.down_blocks\\.(\\d+)\\.resnets\\.(\\d+)\\.(.+)");
    private static final Pattern VAE_DOWNSAMPLE = Pattern.compile("encoder\\.down_blocks\\.(\\d+)\\.downsamplers\\.0\\.(.+)");
    private static final Pattern VAE_UP = Pattern.compile("decoder\\.up_blocks\\.(\\d+)\\.resnets\\.(\\d+)\\.(.+)");
    private static final Pattern VAE_UPSAMPLE = Pattern.compile("decoder\\.up_blocks\\.(\\d+)\\.upsamplers\\.0\\.(.+)");
    private static final Pattern VAE_MID = Pattern.compile("(encoder|decoder)\\.mid_block\\.(resnets\\.(\\d+)|attentions\\.0)\\.(.+)");

    /** The LDM name (with prefix) of a diffusers VAE parameter, or {@code null}. */
    static String vaeName(VaeConfig c, String name) {
        int n = c.blockOutChannels().size();
        Matcher m = VAE_DOWN.matcher(name);
        if (m.matches()) {
            return VAE + "encoder.down." + m.group(1) + ".block." + m.group(2) + "." + vaeResnet(m.group(3));
        }
        m = VAE_DOWNSAMPLE.matcher(name);
        if (m.matches()) {
            return VAE + "encoder.down." + m.group(1) + ".downsample." + m.group(2);
        }
        m = VAE_UP.matcher(name);
        if (m.matches()) {
            int b = n - 1 - Integer.parseInt(m.group(1));
            return VAE + "decoder.up." + b + ".block." + m.group(2) + "." + vaeResnet(m.group(3));
        }
        m = VAE_UPSAMPLE.matcher(name);
        if (m.matches()) {
            int b = n - 1 - Integer.parseInt(m.group(1));
            return VAE + "decoder.up." + b + ".upsample." + m.group(2);
        }
        m = VAE_MID.matcher(name);
        if (m.matches()) {
            String part = m.group(1) + ".mid.";
            if (m.group(3) != null) {
                return VAE + part + "block_" + (Integer.parseInt(m.group(3)) + 1) + "." + vaeResnet(m.group(4));
            }
            String rest = m.group(4);
            String[][] map = {{"group_norm.", "norm."}, {"to_q.", "q."}, {"to_k.", "k."}, {"to_v.", "v."},
                {"to_out.0.", "proj_out."}};
            for (String[] p : map) {
                if (rest.startsWith(p[0])) {
                    return VAE + part + "attn_1." + p[1] + rest.substring(p[0].length());
                }
            }
            return null; // older diffusers names (query/key/value/proj_attn) do not occur in LDM files
        }
        if (name.startsWith("encoder.conv_norm_out.")) {
            return VAE + "encoder.norm_out." + name.substring("encoder.conv_norm_out.".length());
        }
        if (name.startsWith("decoder.conv_norm_out.")) {
            return VAE + "decoder.norm_out." + name.substring("decoder.conv_norm_out.".length());
        }
        return VAE + name; // conv_in, conv_out, quant_conv, post_quant_conv keep their names
    }

    private static String vaeResnet(String rest) {
        return rest.startsWith("conv_shortcut.") ? "nin_shortcut." + rest.substring("conv_shortcut.".length()) : rest;
    }
}
