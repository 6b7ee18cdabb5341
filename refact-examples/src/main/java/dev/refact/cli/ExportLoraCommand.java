package dev.refact.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.refact.clip.io.DType;
import dev.refact.core.lora.EditDelta;
import dev.refact.core.lora.LoraExporter;
import dev.refact.core.lora.LoraFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** {@code refact export-lora}: edit files → one text-encoder LoRA file. */
@Command(name = "export-lora", mixinStandardHelpOptions = true,
        description = {"Turn edit files (single or joint edits) into one text-encoder LoRA that AUTOMATIC1111, "
                + "ComfyUI and diffusers load. Edits of the same layer stack into rank k, so the LoRA's delta equals "
                + "the edits exactly (scale alpha/rank = 1).",
            "Prints a JSON summary (modules, ranks) on stdout."})
final class ExportLoraCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--edit", required = true, arity = "1..*", paramLabel = "FILE",
            description = "Edit files (refact.kind edit or joint_edit), in the order they were made.")
    List<Path> edits;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "kohya",
            description = "kohya (default: lora_te_…lora_down/lora_up/alpha; A1111, ComfyUI, diffusers) or peft "
                    + "(text_encoder.…lora_A/lora_B; diffusers load_lora_weights).")
    String format;

    @Option(names = "--encoder", paramLabel = "N",
            description = "SDXL: 1 or 2 (lora_te1_/lora_te2_, text_encoder./text_encoder_2.); default: a model with "
                    + "one text encoder (lora_te_, text_encoder.).")
    Integer encoder;

    @Option(names = "--dtype", paramLabel = "DTYPE", defaultValue = "f32",
            description = "f32 (default, exact), f16 or bf16.")
    String dtype;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "LoRA file to write (.safetensors).")
    Path out;

    @Override
    public Integer call() throws Exception {
        LoraFormat f;
        try {
            f = LoraFormat.parse(format);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--format: " + e.getMessage());
        }
        if (f == LoraFormat.DIFFUSERS_LEGACY) {
            throw new ParameterException(spec.commandLine(), "--format: diffusers-legacy is read, not written; "
                    + "use kohya or peft");
        }
        DType t = switch (dtype.toLowerCase(Locale.ROOT)) {
            case "f32", "float32" -> DType.F32;
            case "f16", "float16", "fp16" -> DType.F16;
            case "bf16", "bfloat16" -> DType.BF16;
            default -> throw new ParameterException(spec.commandLine(), "--dtype: '" + dtype
                    + "' is not f32, f16 or bf16");
        };
        if (encoder != null && encoder != 1 && encoder != 2) {
            throw new ParameterException(spec.commandLine(), "--encoder must be 1 or 2, got " + encoder);
        }
        for (Path e : edits) {
            if (Files.exists(out) && Files.exists(e) && Files.isSameFile(out, e)) {
                throw new ParameterException(spec.commandLine(), "--out " + out + " is one of the edit files");
            }
        }
        List<EditDelta> deltas = new ArrayList<>();
        for (Path p : edits) {
            deltas.add(EditDelta.read(p)); // every file checked before anything is written
        }
        LoraExporter exporter = LoraExporter.builder().format(f).encoder(encoder == null ? 0 : encoder).dtype(t)
                .build();
        List<LoraExporter.Module> modules = exporter.write(deltas, out);
        JsonObject summary = new JsonObject();
        summary.addProperty("out", out.toString());
        summary.addProperty("format", f.cliName());
        summary.addProperty("dtype", t.safetensorsName());
        JsonArray mods = new JsonArray();
        for (LoraExporter.Module m : modules) {
            JsonObject o = new JsonObject();
            o.addProperty("key", m.key());
            o.addProperty("weight", m.weightName());
            o.addProperty("rank", m.rank());
            JsonArray ids = new JsonArray();
            m.changeIds().forEach(ids::add);
            o.add("edits", ids);
            mods.add(o);
        }
        summary.add("modules", mods);
        spec.commandLine().getOut().println(summary);
        return 0;
    }
}
