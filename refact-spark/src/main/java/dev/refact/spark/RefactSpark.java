package dev.refact.spark;

import dev.refact.cli.CellBackend;
import dev.refact.cli.RefactCommand;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;

/**
 * {@code bin/refact-spark}: {@code eval-text}, {@code eval} and {@code sweep} of {@code bin/refact}, same options,
 * output files and JSON summary, with the cells computed as Spark tasks ({@link SparkCellExecutor}). Extra
 * options, accepted anywhere on the line:
 * <ul>
 *   <li>{@code --master URL}: {@code local[N]}, {@code spark://host:7077}, {@code yarn}, {@code k8s://…}
 *       (default: {@code spark.master} as {@code spark-submit} sets it, else {@code local[*]});</li>
 *   <li>{@code --conf KEY=VALUE}, repeatable: any Spark setting.</li>
 * </ul>
 * The Spark context starts when the command first has cells to compute (so usage errors never start Spark) and
 * stops before exit. Exit codes as {@code refact}: 0 done, 1 failure, 2 usage.
 */
public final class RefactSpark {
    /** The commands this launcher runs. */
    static final Set<String> COMMANDS = Set.of("eval-text", "eval", "sweep");
    /** Master URLs Spark accepts (local-cluster is for Spark's own tests). */
    static final Pattern MASTER = Pattern.compile(
            "local(\\[(\\*|[1-9][0-9]*)(,[1-9][0-9]*)?])?|spark://\\S+|yarn|k8s://\\S+");

    private RefactSpark() {
    }

    /**
     * Entry point: runs {@link #execute} and exits with its code. Standard output and error are UTF-8.
     *
     * @param args the command line, as {@link #execute} takes it
     */
    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
        PrintWriter err = new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        System.exit(execute(args, out, err));
    }

    /**
     * Runs a command line and returns the exit code (tests call this).
     *
     * @param args {@code <eval-text|eval|sweep> [refact options] [--master URL] [--conf K=V]…}
     * @param out  standard output (results summary, help)
     * @param err  standard error (progress, one-line errors)
     * @return the exit code: 0 done, 1 failure, 2 usage error
     */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        String master = null;
        Map<String, String> conf = new LinkedHashMap<>();
        List<String> rest = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String value = null;
            String name = a;
            int eq = a.indexOf('=');
            if (a.startsWith("--master=") || a.startsWith("--conf=")) {
                name = a.substring(0, eq);
                value = a.substring(eq + 1);
            }
            if (!name.equals("--master") && !name.equals("--conf")) {
                rest.add(a);
                continue;
            }
            if (value == null) {
                if (i + 1 >= args.length) {
                    return usage(err, name + " needs a value");
                }
                value = args[++i];
            }
            if (name.equals("--master")) {
                if (!MASTER.matcher(value).matches()) {
                    return usage(err, "--master " + value + ": expected local, local[N], local[*], local[N,F], "
                            + "spark://host:port, yarn or k8s://…");
                }
                master = value;
            } else {
                int k = value.indexOf('=');
                if (k <= 0) {
                    return usage(err, "--conf " + value + ": expected KEY=VALUE");
                }
                conf.put(value.substring(0, k), value.substring(k + 1));
            }
        }
        String command = rest.stream().filter(a -> !a.startsWith("-")).findFirst().orElse(null);
        boolean help = rest.isEmpty() || rest.get(0).equals("--help") || rest.get(0).equals("-h");
        if (help && command == null) {
            out.println("Usage: refact-spark <eval-text|eval|sweep> [the refact command's options] [--master URL] "
                    + "[--conf KEY=VALUE]...");
            out.println("Runs the refact evaluation commands with each cell (setting x row x seed) as a Spark task; "
                    + "same options, files and JSON summary as bin/refact. See docs/spark.md.");
            out.println("  --master URL        local[N], spark://host:7077, yarn or k8s://... (default: local[*])");
            out.println("  --conf KEY=VALUE    a Spark setting (repeatable)");
            out.flush();
            return 0;
        }
        if (command == null || !COMMANDS.contains(command) || !rest.get(0).equals(command)) {
            return usage(err, "refact-spark runs eval-text, eval and sweep"
                    + (command == null ? "; no command given" : ", not " + command + " (use bin/refact)"));
        }
        SparkConf sparkConf = new SparkConf().setAppName("refact " + command);
        if (master != null) {
            sparkConf.setMaster(master);
        } else if (!sparkConf.contains("spark.master")) {
            sparkConf.setMaster("local[*]");
        }
        conf.forEach(sparkConf::set);
        try (Backend backend = new Backend(sparkConf, err)) {
            return RefactCommand.execute(rest.toArray(String[]::new), out, err, backend);
        }
    }

    private static int usage(PrintWriter err, String message) {
        err.println("refact: " + message);
        err.println("Try 'refact-spark --help' for more information.");
        err.flush();
        return 2;
    }

    /** Starts the Spark context on first use; stops it on close. */
    private static final class Backend implements CellBackend, AutoCloseable {
        private final SparkConf conf;
        private final PrintWriter err;
        private SparkContext context;

        Backend(SparkConf conf, PrintWriter err) {
            this.conf = conf;
            this.err = err;
        }

        @Override
        public SparkCellExecutor executor(dev.refact.cli.CellRecipe recipe) {
            if (context == null) {
                context = SparkContext.getOrCreate(conf);
                context.setLogLevel(conf.get("spark.log.level", "WARN"));
            }
            return new SparkCellExecutor(context, recipe, err);
        }

        @Override
        public void close() {
            if (context != null) {
                context.stop();
                context = null;
            }
        }
    }
}
