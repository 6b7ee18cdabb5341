package dev.refact.cli;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.TextEncoding;
import dev.refact.clip.io.SafetensorsWriter;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.clip.torch.Tensors;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code refact encode}: prompts → text-encoder outputs in a safetensors file. */
@Command(name = "encode", mixinStandardHelpOptions = true,
        description = {"Encode prompts (one per line) with the text encoder and write the outputs as safetensors:",
            "input_ids [n,77] I64 (SD padding), last_hidden_state [n,77,d], pooled [n,d], text_embeds [n,p] "
                    + "(when the model has a projection); with --hidden-states also hidden_states.{i} (i = 0..L) "
                    + "and layers.{i}.mlp_key (fc2 inputs)."})
final class EncodeCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = "--prompts", required = true, paramLabel = "FILE", description = "UTF-8 text, one prompt per line.")
    Path prompts;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Output .safetensors file.")
    Path out;

    @Option(names = "--hidden-states", description = "Also write every hidden state and every layer's fc2 input.")
    boolean hiddenStates;

    @Option(names = "--batch", defaultValue = "16", paramLabel = "N", description = "Prompts per forward pass (default 16).")
    int batch;

    @Override
    public Integer call() throws Exception {
        // output locations checked before any loading or computing
        dev.refact.clip.io.AtomicFiles.checkCanCreate(out);
        if (batch < 1) {
            throw new IllegalArgumentException("--batch must be >= 1");
        }
        List<String> lines = dev.refact.clip.io.TextFiles.readLines(prompts);
        if (lines.isEmpty()) {
            throw new IllegalArgumentException(prompts + ": no prompts (the file is empty)");
        }
        ClipTokenizer tokenizer = model.loadTokenizer();
        try (ClipTextModel m = model.loadModel(); PointerScope scope = new PointerScope()) {
            int ctx = m.config().maxPositionEmbeddings();
            int n = lines.size();
            long[] ids = new long[n * ctx];
            for (int i = 0; i < n; i++) {
                System.arraycopy(tokenizer.inputIds(lines.get(i), ctx, tokenizer.padding()), 0, ids, i * ctx, ctx);
            }
            Map<String, List<Tensor>> parts = new LinkedHashMap<>();
            Progress bar = Progress.start(spec.commandLine().getErr(), "encode", n, "prompts");
            for (int from = 0; from < n; from += batch) {
                int to = Math.min(n, from + batch);
                long[] chunk = java.util.Arrays.copyOfRange(ids, from * ctx, to * ctx);
                try (PointerScope step = new PointerScope()) {
                    Tensor t = Tensors.longs(chunk, m.device(), to - from, ctx);
                    try (TextEncoding enc = m.encode(t, hiddenStates)) {
                        // non-finite outputs are an error, not a result
                        dev.refact.clip.torch.Finite.require(enc.lastHiddenState(), "text encoder (prompts " + (from + 1)
                                + ".." + to + ")");
                        dev.refact.clip.torch.Finite.require(enc.textEmbeds(), "text encoder projection");
                        keep(parts, "last_hidden_state", enc.lastHiddenState());
                        keep(parts, "pooled", enc.pooled());
                        if (enc.textEmbeds() != null) {
                            keep(parts, "text_embeds", enc.textEmbeds());
                        }
                        for (int i = 0; i < enc.hiddenStates().size(); i++) {
                            keep(parts, "hidden_states." + i, enc.hiddenStates().get(i));
                        }
                        for (int i = 0; i < enc.mlpKeys().size(); i++) {
                            keep(parts, "layers." + i + ".mlp_key", enc.mlpKeys().get(i));
                        }
                    }
                }
                bar.stepTo(to);
            }
            SafetensorsWriter w = new SafetensorsWriter().metadata("refact.kind", "encoding")
                    .metadata("model", Path.of(m.source()).isAbsolute() && Path.of(m.source()).getFileName() != null
                            ? Path.of(m.source()).getFileName().toString() : m.source()) // shareable: no local path
                    .metadata("model_fingerprint", m.fingerprint());
            w.addLongs("input_ids", ids, n, ctx);
            for (Map.Entry<String, List<Tensor>> e : parts.entrySet()) {
                TensorVector v = new TensorVector(e.getValue().toArray(new Tensor[0]));
                w.add(e.getKey(), torch.cat(v, 0).to(Tensors.cpu(), torch.ScalarType.Float).contiguous());
            }
            w.write(out);
            for (List<Tensor> l : parts.values()) {
                l.forEach(Tensor::close);
            }
            spec.commandLine().getErr().printf("refact: wrote %d prompts to %s%n", n, out);
        }
        return 0;
    }

    private static void keep(Map<String, List<Tensor>> parts, String name, Tensor t) {
        // survive the per-batch scope; closed after writing
        parts.computeIfAbsent(name, k -> new ArrayList<>()).add(t.clone().retainReference());
    }
}
