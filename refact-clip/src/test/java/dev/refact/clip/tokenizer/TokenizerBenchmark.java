package dev.refact.clip.tokenizer;

import dev.refact.clip.testing.SharedData;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPInputStream;

/**
 * Throughput of {@link ClipTokenizer#encode} (a main, not a test; results go to docs/tokenizer.md).
 *
 * <pre>
 * mvn -B -o -q -pl refact-clip test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp refact-clip/target/classes:refact-clip/target/test-classes:$(cat refact-clip/target/cp.txt) \
 *     dev.refact.clip.tokenizer.TokenizerBenchmark
 * </pre>
 */
public final class TokenizerBenchmark {
    private TokenizerBenchmark() {
    }

    private static final String[] WORDS = ("a photo of the cat dog president united states painting realistic "
            + "portrait news image beautiful drawing in Paris Eiffel tower astronaut riding horse moon oil canvas "
            + "highly detailed trending on artstation by greg rutkowski 8k octane render cinematic lighting "
            + "sunset mountains lake forest city night neon cyberpunk fantasy castle dragon knight princess "
            + "watercolor sketch pencil charcoal studio ghibli style anime girl boy old man woman child").split(" ");

    /** Runs the benchmark. */
    public static void main(String[] args) throws IOException {
        long t0 = System.nanoTime();
        ClipTokenizer.cleanText("warm up the tables");
        long t1 = System.nanoTime();
        ClipTokenizer tok = ClipTokenizer.load(SharedData.resolve("clip-tokenizer"));
        long t2 = System.nanoTime();
        System.out.printf("load: unicode tables %.0f ms, vocab.json+merges.txt %.0f ms%n", (t1 - t0) / 1e6, (t2 - t1) / 1e6);

        Random r = new Random(1);
        List<String> prompts = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            StringBuilder sb = new StringBuilder();
            int n = 5 + r.nextInt(25);
            for (int k = 0; k < n; k++) {
                sb.append(k == 0 ? "" : r.nextInt(8) == 0 ? ", " : " ").append(WORDS[r.nextInt(WORDS.length)]);
            }
            prompts.add(sb.toString());
        }
        List<String> unicode = new ArrayList<>();
        try (BufferedReader br = new BufferedReader(new InputStreamReader(new GZIPInputStream(
                TokenizerBenchmark.class.getResourceAsStream("reference-cases.jsonl.gz")), StandardCharsets.UTF_8))) {
            String line;
            while ((line = br.readLine()) != null) {
                unicode.add(com.google.gson.JsonParser.parseString(line).getAsJsonObject().get("text").getAsString());
            }
        }
        // cold: a fresh tokenizer, each prompt once
        ClipTokenizer fresh = ClipTokenizer.load(SharedData.resolve("clip-tokenizer"));
        measure("prompts, first pass (cold BPE cache)", fresh, prompts, 1);
        for (int w = 0; w < 3; w++) {
            run(tok, prompts, 3);
            run(tok, unicode, 1);
        }
        measure("prompts, warm cache", tok, prompts, 10);
        measure("reference-cases (mojibake, entities, random Unicode)", tok, unicode, 3);
        System.out.printf("cpus %d, load average %.2f, %s %s%n", Runtime.getRuntime().availableProcessors(),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
                System.getProperty("java.vm.name"), System.getProperty("java.version"));
    }

    private static long run(ClipTokenizer tok, List<String> texts, int reps) {
        long tokens = 0;
        for (int k = 0; k < reps; k++) {
            for (String s : texts) {
                tokens += tok.encode(s).length;
            }
        }
        return tokens;
    }

    private static void measure(String name, ClipTokenizer tok, List<String> texts, int reps) {
        long chars = 0;
        for (String s : texts) {
            chars += s.length();
        }
        long t0 = System.nanoTime();
        long tokens = run(tok, texts, reps);
        double sec = (System.nanoTime() - t0) / 1e9;
        System.out.printf("%-55s %,10.0f tokens/s %,9.0f texts/s %,12.0f chars/s (%d texts x %d)%n", name,
                tokens / sec, texts.size() * reps / sec, chars * reps / sec, texts.size(), reps);
    }
}
