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

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command (see refact --help)");
    }

    /** Entry point. Standard output and error are UTF-8 whatever the platform's default charset. */
    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
        PrintWriter err = new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        System.exit(execute(args, out, err));
    }

    /** Runs the command line with the given streams and returns the exit code (tests call this). */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new RefactCommand());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            String msg = ex.getMessage() == null ? ex.toString() : ex.getMessage();
            commandLine.getErr().println("refact: " + msg);
            if (Boolean.getBoolean("refact.debug")) {
                ex.printStackTrace(commandLine.getErr());
            }
            commandLine.getErr().flush();
            return 1;
        });
        cl.setParameterExceptionHandler((ex, args2) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("refact: " + ex.getMessage());
            c.getErr().println("Try '" + c.getCommandSpec().qualifiedName() + " --help' for more information.");
            c.getErr().flush();
            return 2;
        });
        int code = cl.execute(args);
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
