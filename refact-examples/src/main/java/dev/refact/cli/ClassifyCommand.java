package dev.refact.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.refact.clip.ClipScores;
import dev.refact.clip.LogitScale;
import dev.refact.clip.ZeroShotClassifier;
import dev.refact.clip.io.SafetensorsWriter;
import dev.refact.clip.torch.Tensors;
import dev.refact.clip.vision.RgbImage;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code refact classify}: zero-shot CLIP classification of images over texts, as ReFACT's evaluation
 * does it ({@code softmax(100 · cos)} over the texts, or the model's own {@code exp(logit_scale)}).
 */
@Command(name = "classify", mixinStandardHelpOptions = true,
        description = {"Classify images over texts with a full CLIP model (zero-shot).",
            "Writes pixel_values [n,3,S,S], image_embeds [n,p], text_embeds [m,p], logits_per_image [n,m] and "
                    + "probs [n,m] (softmax over the texts) to --out, and prints the probabilities as JSON."})
final class ClassifyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--classifier", required = true, paramLabel = "CLIP_DIR",
            description = "HF CLIP folder: config.json (CLIPConfig), model.safetensors, preprocessor_config.json.")
    Path classifier;

    @Option(names = "--tokenizer", paramLabel = "DIR",
            description = "Tokenizer folder (vocab.json + merges.txt) or bpe_simple_vocab_16e6.txt.gz; "
                    + "default: CLIP_DIR.")
    Path tokenizer;

    @Option(names = "--images", required = true, arity = "1..*", paramLabel = "PNG", description = "Image files.")
    List<Path> images;

    @Option(names = "--texts", required = true, arity = "1..*", paramLabel = "TEXT", description = "Class texts.")
    List<String> texts;

    @Option(names = "--scale", defaultValue = "fixed100", paramLabel = "fixed100|model",
            description = "Logit scale: fixed100 (ReFACT's evaluation, default) or model (exp(logit_scale)).")
    String scale;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Output .safetensors file.")
    Path out;

    @Option(names = "--device", defaultValue = "cpu", paramLabel = "DEV", description = "cpu (default), cuda or cuda:N.")
    String device;

    @Override
    public Integer call() throws Exception {
        // output locations checked before any loading or computing
        dev.refact.clip.io.AtomicFiles.checkCanCreate(out);
        LogitScale logitScale = LogitScale.parse(scale);
        List<RgbImage> decoded = new ArrayList<>();
        for (Path p : images) {
            decoded.add(RgbImage.read(p));
        }
        ZeroShotClassifier zs;
        try (Device d = Tensors.device(device)) {
            zs = ZeroShotClassifier.load(classifier, tokenizer, d);
        }
        try (zs; PointerScope scope = new PointerScope()) {
            Tensor px = zs.processor().pixelValues(decoded, zs.model().vision().device());
            Tensor ids = zs.inputIds(texts);
            ClipScores s = zs.model().scores(px, ids, logitScale);
            dev.refact.clip.torch.Finite.require(s.imageEmbeds(), "classifier (image tower)");
            dev.refact.clip.torch.Finite.require(s.textEmbeds(), "classifier (text tower)");
            dev.refact.clip.torch.Finite.require(s.probs(), "classifier (probabilities)");
            new SafetensorsWriter()
                    .metadata("refact.kind", "classification")
                    .metadata("classifier", classifier.toString())
                    .metadata("scale", logitScale.cliName())
                    .metadata("texts", new com.google.gson.Gson().toJson(texts))
                    .add("pixel_values", px.contiguous())
                    .add("image_embeds", s.imageEmbeds().contiguous())
                    .add("text_embeds", s.textEmbeds().contiguous())
                    .add("logits_per_image", s.logitsPerImage().contiguous())
                    .add("probs", s.probs().contiguous())
                    .write(out);
            double[][] probs = s.probabilities();
            JsonObject json = new JsonObject();
            json.addProperty("scale", logitScale.cliName());
            json.addProperty("scale_value", s.scaleValue());
            JsonArray t = new JsonArray();
            texts.forEach(t::add);
            json.add("texts", t);
            JsonArray rows = new JsonArray();
            for (int i = 0; i < probs.length; i++) {
                JsonObject row = new JsonObject();
                row.addProperty("image", images.get(i).toString());
                JsonArray p = new JsonArray();
                for (double v : probs[i]) {
                    p.add(v);
                }
                row.add("probs", p);
                rows.add(row);
            }
            json.add("images", rows);
            PrintWriter w = spec.commandLine().getOut();
            w.println(new GsonBuilder().setPrettyPrinting().create().toJson(json));
            w.flush();
            System.err.printf("refact: classified %d image(s) over %d text(s); wrote %s%n", decoded.size(),
                    texts.size(), out);
        }
        return 0;
    }
}
