import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * ONNX Runtime baseline for `refact bench encoder`: the exported encoder (bench/clip_text_eager.py --export-onnx),
 * optimisation level ALL, N intra-op threads (default 2), medians over batches of 1 and 8 x 77 tokens.
 * Run: java -cp "$(cat cp.txt)" OrtBench.java MODEL.onnx [reps] [threads]. Last line: JSON.
 */
public class OrtBench {
    static long[] ids(int batch, int n, long seed) { // same ids as `refact bench encoder`
        SplittableRandom r = new SplittableRandom(seed);
        long[] ids = new long[batch * n];
        for (int b = 0; b < batch; b++) {
            ids[b * n] = 49406;
            int len = 5 + r.nextInt(Math.max(1, n - 6));
            for (int i = 1; i < n; i++) {
                ids[b * n + i] = i < len ? r.nextInt(49406) : 49407;
            }
        }
        return ids;
    }

    public static void main(String[] a) throws Exception {
        String model = a[0];
        int reps = a.length > 1 ? Integer.parseInt(a[1]) : 20;
        int threads = a.length > 2 ? Integer.parseInt(a[2]) : 2;
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        o.setIntraOpNumThreads(threads);
        StringBuilder json = new StringBuilder("{");
        try (OrtSession s = env.createSession(model, o)) {
            for (int batch : new int[] {1, 8}) {
                long[] ids = ids(batch, 77, 42 + batch);
                long[] t = new long[reps];
                for (int i = -3; i < reps; i++) {
                    try (OnnxTensor in = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {batch, 77})) {
                        long st = System.nanoTime();
                        try (OrtSession.Result r = s.run(Map.of("input_ids", in))) {
                            r.get(1);
                        }
                        if (i >= 0) {
                            t[i] = System.nanoTime() - st;
                        }
                    }
                }
                Arrays.sort(t);
                System.out.printf(Locale.ROOT, "onnxruntime 1.24.2, %d intra-op threads, opt ALL: forward batch %d x 77: "
                        + "median %.1f ms (min %.1f, max %.1f, n %d)%n", threads, batch, t[reps / 2] / 1e6, t[0] / 1e6,
                        t[reps - 1] / 1e6, reps);
                json.append(batch == 1 ? "" : ", ").append(String.format(Locale.ROOT, "\"batch%d_ms\": %.1f", batch,
                        t[reps / 2] / 1e6));
            }
        }
        System.out.println(json.append("}"));
    }
}
