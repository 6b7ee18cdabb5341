package dev.refact.cli;

import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code refact} command line: {@code bin/refact <command> [options]} or
 * {@code java -jar refact-examples/target/refact.jar <command> [options]}.
 *
 * <p>Every command prints {@code --help}; errors are one line on stderr ({@code refact: <message>})
 * and a non-zero exit code (2 for usage errors, 1 for failures). Machine-readable output (JSON lines,
 * files) goes to stdout or the named files; progress goes to stderr.
 */
@Command(name = "refact", mixinStandardHelpOptions = true, versionProvider = RefactCommand.Version.class,
        description = "Edit what a text-to-image model believes (ReFACT), on the JVM.",
        subcommands = {
            CommandLine.HelpCommand.class,
            TokenizeCommand.class,
            EncodeCommand.class,
            EditCommand.class,
            ApplyCommand.class,
            ExportLoraCommand.class,
            ClassifyCommand.class,
            StatsCommand.class,
            DemoCommand.class,
            GenerateCommand.class,
            CompareCommand.class,
            EvalTextCommand.class,
            EvalCommand.class,
            SweepCommand.class,
            BenchCommand.class,
        })
public final class RefactCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** {@code --quiet}, accepted by every command: no progress output (errors and warnings still print). */
    @CommandLine.Option(names = {"-q", "--quiet"}, scope = CommandLine.ScopeType.INHERIT,
            description = "No progress output (bars or lines) on stderr; errors and warnings still print.")
    void setQuiet(boolean quiet) {
        Progress.setQuiet(quiet);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command (see refact --help)");
    }

    /**
     * Entry point. Standard output and error are UTF-8 whatever the platform's default charset.
     *
     * @param args the command and its options, e.g. {@code edit --help}; the JVM exits with the command's exit code
     */
    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
        PrintWriter err = new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        Progress.setInteractive(Progress.stderrIsTerminal()); // bars only on a terminal; plain lines otherwise
        System.exit(execute(args, out, err));
    }

    /** Where eval-text, eval and sweep compute their cells; {@code null}: in their own loop. */
    CellBackend backend;

    /**
     * Runs the command line with the given streams and returns the exit code (tests call this).
     *
     * @param args the command and its options
     * @param out  standard output (command results); flushed before returning
     * @param err  standard error (errors, warnings, progress); flushed before returning
     * @return 0 on success, 2 for a usage error, 1 for a failure
     */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        return execute(args, out, err, null);
    }

    /**
     * As {@link #execute(String[], PrintWriter, PrintWriter)}, with {@code eval-text}, {@code eval} and
     * {@code sweep} computing their cells through {@code backend} (the {@code refact-spark} launcher); other
     * commands are unaffected.
     *
     * @param args    the command and its options
     * @param out     standard output (command results); flushed before returning
     * @param err     standard error (errors, warnings, progress); flushed before returning
     * @param backend where cells are computed, or {@code null} for this JVM's own loop
     * @return 0 on success, 2 for a usage error, 1 for a failure
     */
    public static int execute(String[] args, PrintWriter out, PrintWriter err, CellBackend backend) {
        Progress.setQuiet(false);
        RefactCommand root = new RefactCommand();
        root.backend = backend;
        CommandLine cl = new CommandLine(root);
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            commandLine.getErr().println("refact: " + ErrorMessages.oneLine(ex));
            if (Boolean.getBoolean("refact.debug")) {
                ex.printStackTrace(commandLine.getErr());
            }
            commandLine.getErr().flush();
            return 1;
        });
        cl.setParameterExceptionHandler((ex, args2) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("refact: " + ErrorMessages.clean(ex.getMessage()));
            c.getErr().println("Try '" + c.getCommandSpec().qualifiedName() + " --help' for more information.");
            c.getErr().flush();
            return 2;
        });
        int code;
        try {
            code = cl.execute(args);
        } catch (OutOfMemoryError e) {
            err.println("refact: " + ErrorMessages.oneLine(e));
            code = 1;
        }
        out.flush();
        err.flush();
        return code;
    }

    /** Version from the jar manifest, or the development version. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = RefactCommand.class.getPackage().getImplementationVersion();
            return new String[] {"refact " + (v == null ? "0.1.0-SNAPSHOT" : v)};
        }
    }
}
