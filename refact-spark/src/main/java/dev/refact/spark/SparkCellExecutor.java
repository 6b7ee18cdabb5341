package dev.refact.spark;

import dev.refact.cli.CellRecipe;
import dev.refact.core.eval.CellExecutor;
import dev.refact.core.eval.CellResult;
import dev.refact.core.eval.CellSpec;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.WeakHashMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.apache.spark.SimpleFutureAction;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkFiles;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.apache.spark.rdd.RDD;
import scala.Option;
import scala.collection.Iterator;
import scala.jdk.javaapi.CollectionConverters;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction0;
import scala.runtime.AbstractFunction1;
import scala.runtime.AbstractFunction2;
import scala.runtime.BoxedUnit;

/**
 * Computes an evaluation's cells as Spark tasks, one partition (one task) per cell, and hands each result to the
 * runner on the driver as soon as its task finishes ({@code SparkContext.submitJob} with a result handler), so
 * the driver appends {@code results.jsonl} while the job runs and a killed run loses only the cells in flight.
 *
 * <p>What travels: the {@link CellRecipe} (paths and settings, a few KB) in the task closure, the {@link CellSpec}
 * as the partition's one element, and the {@link CellResult} back (a few hundred bytes). Models, statistics and
 * images never pass through the driver; executors load them from the recipe's paths. The one exception: statistics
 * the command did not give as a file ({@code --stats}) are computed once on the driver and copied to each executor
 * ({@code SparkContext.addFile}), rather than computed again on every machine.
 *
 * <p>Faults: a task whose executor is lost, or whose resources cannot be loaded (the recipe throws), is retried
 * by Spark up to {@code spark.task.maxFailures} times (default 4 on a cluster; {@code local[N]} does not retry
 * unless the master is {@code local[N,F]}); when Spark gives up, {@link #execute} throws and the cells already
 * finished stay recorded. A cell that fails deterministically (the editor refuses the row) comes back as a
 * failed {@link CellResult}, is recorded, and does not fail the job.
 */
public final class SparkCellExecutor implements CellExecutor {
    /** {@code local[N,F]}: group 1 is F. */
    private static final Pattern LOCAL = Pattern.compile("local\\[[^,\\]]+(?:,([0-9]+))?]");

    /** Seconds between two throughput lines. */
    static final long REPORT_SECONDS = 30;

    /** Files already given to {@code addFile} per context (Spark refuses to overwrite an added path). */
    private static final Map<SparkContext, Set<String>> SHIPPED = new WeakHashMap<>();

    private final SparkContext context;
    private final CellRecipe recipe;
    /** Layers whose statistics {@link #shipStatistics} has prepared, and the shipped file name per layer. */
    private final Set<Integer> prepared = new HashSet<>();
    private final Map<Integer, String> shippedNames = new TreeMap<>();
    private final PrintWriter progress;

    /**
     * An executor without throughput lines.
     *
     * @param context the running Spark context (not owned)
     * @param recipe  how the executors compute a cell
     */
    public SparkCellExecutor(SparkContext context, CellRecipe recipe) {
        this(context, recipe, null);
    }

    /**
     * @param context  the running Spark context (not owned)
     * @param recipe   how the executors compute a cell
     * @param progress where to print the job's throughput (cells done, cells per minute, ETA, tasks running)
     *                 every {@value #REPORT_SECONDS} s and when the job ends, or {@code null}
     */
    public SparkCellExecutor(SparkContext context, CellRecipe recipe, PrintWriter progress) {
        this.context = Objects.requireNonNull(context, "context");
        this.recipe = Objects.requireNonNull(recipe, "recipe");
        this.progress = progress;
    }

    @Override
    public void execute(List<CellSpec> cells, Sink sink) throws IOException {
        if (cells.isEmpty()) {
            return;
        }
        Map<Integer, String> shipped = shipStatistics(cells);
        ClassTag<CellSpec> tag = ClassTag$.MODULE$.apply(CellSpec.class);
        RDD<CellSpec> rdd = context.parallelize(CollectionConverters.asScala(cells).toSeq(), cells.size(), tag);
        BlockingQueue<Finished> done = new LinkedBlockingQueue<>();
        List<Integer> partitions = IntStream.range(0, cells.size()).boxed().toList();
        @SuppressWarnings("unchecked")
        scala.collection.immutable.Seq<Object> parts =
                (scala.collection.immutable.Seq<Object>) (scala.collection.immutable.Seq<?>)
                        CollectionConverters.asScala(partitions).toSeq();
        context.setJobDescription("refact: " + cells.size() + " cells");
        SimpleFutureAction<BoxedUnit> job = context.submitJob(rdd, new ComputeCell(recipe, attempts(), shipped), parts,
                new Collect(done), new Unit());
        int received = 0;
        long start = System.nanoTime();
        long lastReport = start;
        try {
            while (received < cells.size()) {
                Finished f = done.poll(200, TimeUnit.MILLISECONDS);
                if (progress != null && System.nanoTime() - lastReport > TimeUnit.SECONDS.toNanos(REPORT_SECONDS)) {
                    lastReport = System.nanoTime();
                    report(received, cells.size(), start, false);
                }
                if (f != null) {
                    sink.accept(cells.get(f.partition()), f.result());
                    received++;
                } else if (job.isCompleted()) {
                    List<Finished> rest = new ArrayList<>();
                    done.drainTo(rest);
                    for (Finished r : rest) {
                        sink.accept(cells.get(r.partition()), r.result());
                        received++;
                    }
                    if (received < cells.size()) {
                        job.get();   // throws the job's failure
                        throw new IOException("Spark job ended with " + (cells.size() - received) + " of "
                                + cells.size() + " cells missing");
                    }
                }
            }
            if (progress != null) {
                report(received, cells.size(), start, true);
            }
        } catch (InterruptedException e) {
            job.cancel();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for Spark", e);
        } catch (IOException | RuntimeException e) {
            if (!job.isCompleted()) {
                job.cancel();
            }
            throw e;
        } catch (Exception e) {
            throw new IOException("Spark job failed: " + firstLine(rootMessage(e)), e);
        }
    }

    /**
     * Statistics the command did not give as a shared file ({@code --stats}): the recipe computes them here on the
     * driver, once per layer (or finds them in this machine's cache), and {@code SparkContext.addFile} copies each
     * file to every executor, which reads its local copy ({@code SparkFiles.get}) instead of computing the
     * statistics again on every machine.
     *
     * @param cells the cells about to run
     * @return the shipped file's name per layer (empty when nothing is shipped)
     * @throws IOException if the statistics cannot be computed on the driver
     */
    private synchronized Map<Integer, String> shipStatistics(List<CellSpec> cells) throws IOException {
        Set<Integer> layers = new TreeSet<>();
        for (CellSpec c : cells) {
            if (c.settings() != null) {
                layers.add(c.settings().layer());
            }
        }
        // once per layer for this executor: a sweep's concurrent settings share it, and each would otherwise make
        // the recipe load the text encoder again on the driver
        Set<Integer> missing = new TreeSet<>(layers);
        missing.removeAll(prepared);
        if (!missing.isEmpty()) {
            PrintWriter log = progress != null ? progress
                    : new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
            Map<Integer, Path> files = recipe.statisticsToShip(missing, log);
            for (Map.Entry<Integer, Path> e : files.entrySet()) {
                String file = e.getValue().toAbsolutePath().toString();
                synchronized (SHIPPED) {
                    Set<String> added = SHIPPED.computeIfAbsent(context, k -> new HashSet<>());
                    if (added.add(file)) {
                        context.addFile(file);
                        log.println("refact: spark: statistics of layer " + e.getKey() + " shipped to the executors: "
                                + file);
                    }
                }
                shippedNames.put(e.getKey(), e.getValue().getFileName().toString());
            }
            prepared.addAll(missing);
        }
        Map<Integer, String> names = new TreeMap<>(shippedNames);
        names.keySet().retainAll(layers);
        return names;
    }

    /**
     * How often Spark tries a task: {@code F} of a {@code local[N,F]} master, 1 for other local masters,
     * {@code spark.task.maxFailures} (default 4) on a cluster.
     */
    int attempts() {
        String master = context.master();
        Matcher m = LOCAL.matcher(master);
        if (m.matches()) {
            return m.group(1) == null ? 1 : Integer.parseInt(m.group(1));
        }
        return master.startsWith("local") ? 1 : context.conf().getInt("spark.task.maxFailures", 4);
    }

    /** One throughput line: cells done of this job, cells per minute, then ETA and tasks running, or the time. */
    private void report(int done, int total, long start, boolean finished) {
        double minutes = (System.nanoTime() - start) / 6e10;
        double rate = minutes > 0 ? done / minutes : 0;
        String tail;
        if (finished) {
            tail = String.format(Locale.ROOT, "in %.1f min", minutes);
        } else {
            int running = 0;
            for (int stage : context.statusTracker().getActiveStageIds()) {
                var info = context.statusTracker().getStageInfo(stage);
                if (info.isDefined()) {
                    running += info.get().numActiveTasks();
                }
            }
            tail = (done == 0 ? "ETA ?" : String.format(Locale.ROOT, "ETA %.1f min", (total - done) / rate)) + ", "
                    + running + " tasks running";
        }
        progress.printf(Locale.ROOT, "refact: spark: %d/%d cells of this job done, %.2f cells/min, %s%n", done, total,
                rate, tail);
        progress.flush();
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t.getMessage() == null ? t.toString() : t.getMessage();
        return m.equals(e.getMessage()) ? m : m + " (" + firstLine(String.valueOf(e.getMessage())) + ")";
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** A finished partition. */
    private record Finished(int partition, CellResult result) {
    }

    /**
     * The task: the partition's one cell through the recipe. Runs on an executor. Resources that cannot be loaded
     * fail the task (Spark retries it, then fails the job); a failure while computing the cell is retried too, and
     * on the last attempt becomes a failed cell, so a cell that fails deterministically is recorded and the job
     * goes on.
     */
    private static final class ComputeCell extends AbstractFunction1<Iterator<CellSpec>, CellResult>
            implements Serializable {
        private static final long serialVersionUID = 1L;
        private final CellRecipe recipe;
        private final int attempts;
        /** File name per layer of statistics shipped with {@code addFile} (see {@link #shipStatistics}). */
        private final Map<Integer, String> shipped;

        ComputeCell(CellRecipe recipe, int attempts, Map<Integer, String> shipped) {
            this.recipe = recipe;
            this.attempts = attempts;
            this.shipped = new TreeMap<>(shipped);
        }

        @Override
        public CellResult apply(Iterator<CellSpec> cells) {
            CellSpec cell = cells.next();
            CellRecipe r = recipe;
            if (!shipped.isEmpty()) {
                Map<Integer, Path> local = new TreeMap<>();
                shipped.forEach((layer, name) -> local.put(layer, Path.of(SparkFiles.get(name))));
                r = r.withStatisticsFiles(local);
            }
            TaskContext task = TaskContext.get();
            if (task != null && r.device().startsWith("cuda")) {
                // spark.task.resource.gpu.amount = 1: the scheduler names this task's GPU
                Option<ResourceInformation> gpu = task.resources().get("gpu");
                if (gpu.isDefined() && gpu.get().addresses().length > 0) {
                    r = r.withDevice("cuda:" + gpu.get().addresses()[0]);
                }
            }
            long t0 = System.nanoTime();
            try {
                return r.compute(cell);
            } catch (IOException e) {
                throw new UncheckedIOException("row " + cell.row() + ", seed " + cell.seed() + ": " + e.getMessage(),
                        e);
            } catch (RuntimeException e) {
                int attempt = task == null ? 0 : task.attemptNumber();
                if (attempt + 1 < attempts) {
                    throw e;
                }
                String msg = e.getMessage() == null ? e.toString() : e.getMessage();
                return new CellResult(cell.row(), cell.seed(), List.of(), List.of(), null, "cell failed"
                        + (attempts > 1 ? " on all " + attempts + " attempts" : "") + ": " + msg,
                        (System.nanoTime() - t0) / 1e6);
            }
        }
    }

    /** The result handler: runs on the driver's scheduler thread, so it only queues. */
    private static final class Collect extends AbstractFunction2<Object, CellResult, BoxedUnit> {
        private final BlockingQueue<Finished> done;

        Collect(BlockingQueue<Finished> done) {
            this.done = done;
        }

        @Override
        public BoxedUnit apply(Object partition, CellResult result) {
            done.add(new Finished((Integer) partition, result));
            return BoxedUnit.UNIT;
        }
    }

    /** The job's overall result (none). */
    private static final class Unit extends AbstractFunction0<BoxedUnit> {
        @Override
        public BoxedUnit apply() {
            return BoxedUnit.UNIT;
        }
    }
}
