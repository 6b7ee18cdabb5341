package dev.refact.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.refact.clip.ClipTextModel;
import dev.refact.core.SavedEdit;
import dev.refact.core.lora.LoraFile;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code refact apply}: apply saved edits in order and write the edited text encoder. */
@Command(name = "apply", mixinStandardHelpOptions = true,
        description = {"Apply edit files (in the order given) to a text encoder and write the result as a "
                + "diffusers text_encoder/ folder (same tensor names and dtypes as the input), or with "
                + "--out FILE.safetensors as the input single-file checkpoint with only the edited weights changed.",
            "Each edit must have been computed on the weights it is applied to (fingerprint check) unless --force."})
final class ApplyCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = "--edit", required = true, arity = "1..*", paramLabel = "FILE",
            description = "Edit files (single edits, or joint edit files from refact edit --requests … --save-edit), "
                    + "or text-encoder LoRA files (kohya, peft, older diffusers; UNet tensors are reported and "
                    + "skipped).")
    List<Path> edits;

    @Option(names = "--out", required = true, paramLabel = "DIR|FILE.safetensors",
            description = "Output folder, or FILE.safetensors to write the input checkpoint back in its own layout "
                    + "(never the input file itself).")
    Path out;

    @Option(names = "--force", description = "Apply even when an edit was made on other weights, or its update is "
            + "more than 10 times the norm of the weight it changes (non-finite results are refused regardless).")
    boolean force;

    @Override
    public Integer call() throws Exception {
        // output locations checked before any loading or computing
        model.checkOutput(out);
        OutputChecks.folderOrSafetensors(out);
        List<Object> loaded = new java.util.ArrayList<>();
        for (Path p : edits) {
            // all files validated before the model is touched; LoRA files are recognised by their tensor names,
            // joint edit files by refact.kind = joint_edit
            loaded.add(LoraFile.isLora(p) ? LoraFile.read(p)
                    : dev.refact.core.SavedJointEdit.isJointEditFile(p) ? dev.refact.core.SavedJointEdit.load(p)
                    : SavedEdit.load(p));
        }
        try (ClipTextModel m = model.loadModel()) {
            JsonArray applied = new JsonArray();
            for (int i = 0; i < loaded.size(); i++) {
                if (loaded.get(i) instanceof LoraFile lora) {
                    applied.add(LoraApply.apply(lora, m, model.encoder, spec.commandLine().getErr()));
                    continue;
                }
                JsonObject o = new JsonObject();
                o.addProperty("file", edits.get(i).toString());
                try {
                    if (loaded.get(i) instanceof dev.refact.core.SavedJointEdit j) {
                        j.apply(m, force);
                        o.addProperty("change_id", j.changeId());
                        o.addProperty("layer", j.layer());
                        o.addProperty("kind", dev.refact.core.SavedJointEdit.KIND);
                        o.addProperty("rows", j.rows().size());
                        JsonArray reqs = new JsonArray();
                        for (dev.refact.core.EditRequest r : j.requests()) {
                            JsonObject x = new JsonObject();
                            x.addProperty("prompt", r.prompt());
                            x.addProperty("target", r.target());
                            reqs.add(x);
                        }
                        o.add("requests", reqs);
                    } else {
                        SavedEdit e = (SavedEdit) loaded.get(i);
                        e.apply(m, force);
                        o.addProperty("change_id", e.changeId());
                        o.addProperty("layer", e.layer());
                        o.addProperty("prompt", e.request().prompt());
                        o.addProperty("target", e.request().target());
                    }
                } catch (RuntimeException ex) {
                    throw new IllegalStateException(edits.get(i) + ": " + ex.getMessage(), ex);
                }
                applied.add(o);
            }
            m.save(out);
            JsonObject summary = new JsonObject();
            summary.add("applied", applied);
            summary.addProperty("out", out.toString());
            summary.addProperty("model_fingerprint", m.fingerprint());
            spec.commandLine().getOut().println(summary);
        }
        return 0;
    }
}
