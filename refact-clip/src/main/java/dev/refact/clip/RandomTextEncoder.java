package dev.refact.clip;

import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.io.DType;
import dev.refact.clip.torch.Tensors;
import dev.refact.clip.torch.TorchRuntime;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** Seeded random text encoders of any shape (SD 1.x, SD 2.x, SDXL-like), behind {@link ClipTextModel#random}. */
final class RandomTextEncoder {
    private RandomTextEncoder() {
    }

    /** See {@link ClipTextModel#random(ClipTextConfig, long, boolean)}. */
    static ClipTextModel create(ClipTextConfig config, long seed, boolean withProjection) {
        TorchRuntime.ensureLoaded();
        ParameterStore store = new ParameterStore(Path.of("random(seed=" + seed + ")"));
        Device cpu;
        try (Device c = Tensors.cpu()) {
            cpu = ClipTextModel.ownedDevice(c);
        }
        try {
            int d = config.hiddenSize();
            int inter = config.intermediateSize();
            String p = "text_model.";
            randomTensor(store, seed, p + "embeddings.token_embedding.weight", 0.0, 0.5, cpu, config.vocabSize(), d);
            randomTensor(store, seed, p + "embeddings.position_embedding.weight", 0.0, 0.5, cpu,
                    config.maxPositionEmbeddings(), d);
            for (int i = 0; i < config.numHiddenLayers(); i++) {
                String l = p + "encoder.layers." + i + ".";
                for (String ln : new String[] {"layer_norm1", "layer_norm2"}) {
                    randomTensor(store, seed, l + ln + ".weight", 1.0, 0.2, cpu, d);
                    randomTensor(store, seed, l + ln + ".bias", 0.0, 0.1, cpu, d);
                }
                for (String proj : new String[] {"q_proj", "k_proj", "v_proj", "out_proj"}) {
                    randomTensor(store, seed, l + "self_attn." + proj + ".weight", 0.0, 1 / Math.sqrt(d), cpu, d, d);
                    randomTensor(store, seed, l + "self_attn." + proj + ".bias", 0.0, 0.1, cpu, d);
                }
                randomTensor(store, seed, l + "mlp.fc1.weight", 0.0, 1 / Math.sqrt(d), cpu, inter, d);
                randomTensor(store, seed, l + "mlp.fc1.bias", 0.0, 0.1, cpu, inter);
                randomTensor(store, seed, l + "mlp.fc2.weight", 0.0, 1 / Math.sqrt(inter), cpu, d, inter);
                randomTensor(store, seed, l + "mlp.fc2.bias", 0.0, 0.1, cpu, d);
            }
            randomTensor(store, seed, p + "final_layer_norm.weight", 1.0, 0.2, cpu, d);
            randomTensor(store, seed, p + "final_layer_norm.bias", 0.0, 0.1, cpu, d);
            ClipTextConfig cfg = config;
            if (withProjection) {
                int pd = config.projectionDim() > 0 ? config.projectionDim() : d;
                randomTensor(store, seed, "text_projection.weight", 0.0, 1 / Math.sqrt(d), cpu, pd, d);
                cfg = config.withProjectionDim(pd);
            }
            return new ClipTextModel(cfg, store, p, cpu, torch.ScalarType.Float, "random(seed=" + seed + ")", null);
        } catch (CheckpointFormatException | RuntimeException e) {
            store.close();
            cpu.close();
            throw new IllegalStateException("random model construction failed: " + e.getMessage(), e);
        }
    }

    private static void randomTensor(ParameterStore store, long seed, String name, double mean, double std,
                                     Device device, long... shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        SplittableRandom rng = new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (name.hashCode() + 1L)));
        float[] data = new float[Math.toIntExact(n)];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) (mean + std * rng.nextGaussian());
        }
        Tensor t;
        try (PointerScope scope = new PointerScope()) {
            t = Tensors.floats(data, device, shape).retainReference();
        }
        store.put(name, t, DType.F32);
    }
}
