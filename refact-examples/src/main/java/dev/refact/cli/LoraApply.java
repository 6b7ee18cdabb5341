package dev.refact.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.refact.clip.ClipTextModel;
import dev.refact.core.lora.LoraFile;
import java.io.PrintWriter;
import java.util.List;

/** The LoRA branch of {@code refact apply}: merge a LoRA file's text-encoder modules, report skipped UNet tensors. */
final class LoraApply {
    private LoraApply() {
    }

    /** Merges {@code lora} into {@code model}; prints the skipped tensors on {@code err}; returns the JSON record. */
    static JsonObject apply(LoraFile lora, ClipTextModel model, int encoder, PrintWriter err) {
        List<LoraFile.Merged> merged = lora.apply(model, encoder, "lora:" + lora.path().getFileName());
        JsonObject o = new JsonObject();
        o.addProperty("file", lora.path().toString());
        o.addProperty("lora_format", lora.format().cliName());
        JsonArray mods = new JsonArray();
        for (LoraFile.Merged m : merged) {
            JsonObject j = new JsonObject();
            j.addProperty("key", m.key());
            j.addProperty("weight", m.weightName());
            j.addProperty("rank", m.rank());
            j.addProperty("scale", m.scale());
            mods.add(j);
        }
        o.add("merged", mods);
        int other = lora.modules().size() - merged.size();
        o.addProperty("skipped_other_encoder", other);
        o.addProperty("skipped_unet", lora.skipped().size());
        if (!lora.skipped().isEmpty()) {
            err.println("refact: " + lora.path() + ": skipped " + lora.skipped().size()
                    + " UNet tensors (not part of the text encoder), e.g. " + lora.skipped().get(0).key());
        }
        if (other > 0) {
            err.println("refact: " + lora.path() + ": skipped " + other + " modules of the other text encoder");
        }
        if (merged.isEmpty()) {
            err.println("refact: " + lora.path() + ": no text-encoder module to merge");
        }
        err.flush();
        return o;
    }
}
