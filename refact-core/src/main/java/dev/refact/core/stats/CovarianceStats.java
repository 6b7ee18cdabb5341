package dev.refact.core.stats;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.io.NpyArray;
import dev.refact.clip.io.Npz;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.clip.torch.Tensors;
import dev.refact.clip.torch.TorchRuntime;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The uncentered second moment {@code C = E[k kᵀ]} of fc2 inputs (keys) at one layer of a text encoder,
 * with a cached Cholesky factorisation for solving {@code C x = k}.
 *
 * <p>Shapes: {@code C} is [i,i] (i = MLP width, 3072 for SD 1.x), stored in float64. The factorisation
 * is computed once, on first use, in float64 on the matrix's device, after adding the damping
 * {@code λ·mean(diag C)·I} when {@code damping λ > 0}.
 *
 * <p>Where C comes from: {@link #compute} (keys of a model over a text corpus), {@link #load} (a file written by
 * {@link #save}), {@link #importNpz} (the {@code .npz} cache of the released Python code) or {@link #fromMatrix}.
 *
 * <pre>{@code
 * try (ClipTextModel model = ClipTextModel.load(dir);
 *      CovarianceStats stats = CovarianceStats.compute(model, tokenizer, 7, Corpora.lines(corpusFile),
 *              StatsOptions.builder().corpusName("wikitext-103").build(), StatsListener.NONE)) {
 *     stats.save(Path.of("layer7.stats.safetensors"));
 * }
 * }</pre>
 *
 * <p>Owns its native memory privately (never a caller's scope): close it. After {@link #close()} every method
 * except {@link #isClosed()} and {@link #toString()} throws {@code IllegalStateException("covariance statistics
 * ... are closed")}.
 */
public final class CovarianceStats implements AutoCloseable {
    private final Tensor matrix;         // [i,i] float64, C
    private final int layer;
    private final long count;
    private final StatsProvenance provenance;
    private final double damping;
    /** The statistics owning {@link #matrix} and the factors: {@code this}, or the root of a damping view. */
    private final CovarianceStats root;
    /**
     * Lower-triangular Cholesky factors of {@code C + λ·mean(diag C)·I} by λ, made lazily and owned by the root
     * (one closeable owner for C and every factorisation of it); at most {@link #MAX_FACTORS}, least recently used
     * first out. Only the root's map is used.
     */
    private final java.util.LinkedHashMap<Double, Tensor> factors = new java.util.LinkedHashMap<>(4, 0.75f, true);
    private static final int MAX_FACTORS = 2;
    private volatile boolean closed;

    CovarianceStats(Tensor matrix, int layer, long count, StatsProvenance provenance, double damping) {
        this(matrix, layer, count, provenance, damping, null);
    }

    private CovarianceStats(Tensor matrix, int layer, long count, StatsProvenance provenance, double damping,
                            CovarianceStats root) {
        this.root = root == null ? this : root;
        this.matrix = matrix;
        this.layer = layer;
        this.count = count;
        this.provenance = Objects.requireNonNull(provenance, "provenance");
        if (!(damping >= 0) || Double.isInfinite(damping)) {
            throw new IllegalArgumentException("damping must be a finite number >= 0, got " + damping);
        }
        this.damping = damping;
    }

    /**
     * Statistics from a given matrix C (copied to float64 on {@code device}).
     *
     * @param c          [i,i] symmetric positive (semi-)definite matrix (the mean of k kᵀ, not the sum)
     * @param layer      layer the keys were taken at; must equal {@code provenance.layer()}
     * @param count      number of keys averaged (informational)
     * @param provenance where C came from
     * @param device     where the copy goes (the caller keeps ownership of the Device object)
     * @return statistics holding a float64 copy of C on {@code device}, damping 0, owned by the caller (close them)
     * @throws IllegalArgumentException if C is not square, not finite or not symmetric, or {@code layer} differs
     *                                  from {@code provenance.layer()}
     */
    public static CovarianceStats fromMatrix(Tensor c, int layer, long count, StatsProvenance provenance,
                                             Device device) {
        Objects.requireNonNull(provenance, "provenance");
        if (layer != provenance.layer()) {
            throw new IllegalArgumentException("covariance statistics of layer " + layer + " but their provenance "
                    + provenance.id() + " says layer " + provenance.layer());
        }
        long[] s = Tensors.shape(c);
        if (s.length != 2 || s[0] != s[1] || s[0] == 0) {
            throw new IllegalArgumentException("covariance matrix must be square [i,i], got " + Arrays.toString(s));
        }
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Tensor m = c.detach().to(device, torch.ScalarType.Double).clone();
            if (!torch.isfinite(m).all().item_bool()) {
                throw new IllegalArgumentException("covariance matrix has non-finite entries");
            }
            double asym = m.sub(m.t()).abs().max().item_double();
            double scale = Math.max(m.abs().max().item_double(), Double.MIN_NORMAL);
            if (asym > 1e-6 * scale) {
                throw new IllegalArgumentException("covariance matrix is not symmetric (max |C − Cᵀ| = " + asym + ")");
            }
            return new CovarianceStats(m.retainReference(), layer, count, provenance, 0.0);
        }
    }

    /** Takes ownership of {@code mean} [i,i] float64 (already validated). */
    static CovarianceStats adopt(Tensor mean, StatsProvenance provenance) {
        return new CovarianceStats(mean, provenance.layer(), provenance.count(), provenance, 0.0);
    }

    /**
     * Computes {@code C = E[k kᵀ]} of the fc2 inputs at {@code layer} over every non-padding token (start and end
     * included) of a text corpus.
     *
     * <p>Each non-blank text is tokenized as start, BPE ids, end, cut to {@link StatsOptions#maxTokens()} tokens
     * with the end token kept last (the paper: 60). Texts are run in batches of {@link StatsOptions#batchSize()},
     * padded to the batch's longest text; padding positions are never counted (causal attention keeps them from
     * changing real positions). {@code Σ k kᵀ} is accumulated in float64 on the model's device
     * ({@code keysᵀ·keys} per batch); C is the sum divided by the number of keys, symmetrised. The corpus is
     * streamed: only one batch of texts is held. At most {@link StatsOptions#sampleLimit()} texts are used; blank
     * texts are skipped and not counted.
     *
     * <p>Provenance: the model's {@link ClipTextModel#fingerprint()}, the layer, the corpus name, the SHA-256 of
     * the texts used (each text's UTF-8 bytes followed by {@code '\n'}, in order; for a file of lines without
     * blank lines that is the SHA-256 of its first {@code texts} lines with {@code \n} endings), the number of
     * keys and texts, {@code maxTokens} and dtype float64.
     *
     * <p>Checkpoints: with {@link StatsOptions#checkpoint()} set, the statistics so far are saved (atomically, in
     * the {@link #save} format) every {@link StatsOptions#checkpointEvery()} texts. If the file exists when
     * compute starts, it resumes: the texts it counted are read again (to verify they hash to the checkpoint's
     * corpus SHA-256, i.e. same corpus, same order) but not run through the model. The result then equals an
     * uninterrupted run up to float64 rounding (the checkpoint keeps the mean, so the sum is restored as mean ×
     * count). An interrupted computation never leaves a corrupt checkpoint. The checkpoint is not deleted at the
     * end.
     *
     * <p>If the corpus's iterator implements {@link AutoCloseable} (as {@link Corpora#lines} does) it is closed
     * when compute stops reading.
     *
     * @param model     the text encoder (its weights are not changed)
     * @param tokenizer the model's tokenizer
     * @param layer     0-based layer whose fc2 inputs are collected
     * @param corpus    texts, one sample each; iterated once
     * @param options   batch size, token cut, sample limit, corpus name, checkpoint
     * @param listener  progress after every batch and at the end (may be null)
     * @return statistics on the model's device, owned by the caller
     * @throws IllegalArgumentException if the layer or maxTokens do not fit the model, the corpus has no non-blank
     *                                  text, or a checkpoint belongs to another model, layer, token cut or corpus
     * @throws IllegalStateException    if the keys are not finite
     * @throws IOException              if a checkpoint cannot be read or written
     */
    public static CovarianceStats compute(ClipTextModel model, ClipTokenizer tokenizer, int layer,
                                          Iterable<String> corpus, StatsOptions options, StatsListener listener)
            throws IOException {
        return new StatsComputation(model, tokenizer, layer, options, listener).run(corpus);
    }

    /**
     * Loads statistics written by {@link #save} onto the CPU. See {@link #load(Path, Device)}.
     *
     * @param file a statistics {@code .safetensors} file
     * @return statistics on the CPU, damping 0, owned by the caller
     * @throws NoSuchFileException       if the file does not exist
     * @throws CheckpointFormatException if the file is not valid covariance statistics (the message names it)
     * @throws IOException               if the file cannot be read
     */
    public static CovarianceStats load(Path file) throws IOException {
        TorchRuntime.ensureLoaded();
        try (Device cpu = Tensors.cpu()) {
            return load(file, cpu);
        }
    }

    /**
     * Loads statistics written by {@link #save}: validates the kind, tensor, shape, metadata, symmetry and
     * finiteness; the matrix is read bit-exactly.
     *
     * @param file   a statistics {@code .safetensors} file
     * @param device where the matrix goes (the caller keeps ownership of the Device object)
     * @return statistics on {@code device}, damping 0, owned by the caller
     * @throws NoSuchFileException       if the file does not exist
     * @throws CheckpointFormatException if the file is not valid covariance statistics (the message names it)
     * @throws IOException               if the file cannot be read
     */
    public static CovarianceStats load(Path file, Device device) throws IOException {
        TorchRuntime.ensureLoaded();
        StatsFile.Contents c = StatsFile.read(file, device);
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Tensor m = c.mean();
            checkFiniteSymmetric(file, m);
            return new CovarianceStats(m, c.provenance().layer(), c.provenance().count(), c.provenance(), 0.0);
        } catch (IOException | RuntimeException e) {
            c.mean().close();
            throw e;
        }
    }

    /**
     * Imports the statistics cache of the released Python code (ROME's {@code layer_stats}, used by ReFACT): an
     * {@code .npz} with {@code mom2.mom2} [d,d] (float32 sums of k kᵀ) and {@code mom2.count} (number of keys);
     * C = mom2 / count, computed in float64.
     *
     * <p>The file does not say which model or corpus it came from: the provenance records {@code model}'s
     * fingerprint, {@code corpus = "imported:<file name>"}, the SHA-256 of the {@code .npz} file in place of the
     * corpus hash, and dtype float32.
     *
     * @param npz   the {@code .npz} file
     * @param model the model the statistics belong to (its MLP width is checked; its fingerprint is recorded)
     * @param layer the layer the statistics were collected at
     * @return statistics on the model's device, owned by the caller
     * @throws IllegalArgumentException  if the layer is outside the model
     * @throws CheckpointFormatException if entries are missing, mis-shaped, not finite, not symmetric, the count is
     *                                   not a positive whole number, or d differs from the model's MLP width (the
     *                                   message names the file)
     */
    public static CovarianceStats importNpz(Path npz, ClipTextModel model, int layer) throws IOException {
        TorchRuntime.ensureLoaded();
        int layers = model.config().numHiddenLayers();
        if (layer < 0 || layer >= layers) {
            throw new IllegalArgumentException("layer " + layer + " is outside [0, " + layers + ") for " + model);
        }
        if (!Files.exists(npz)) {
            throw new NoSuchFileException(npz.toString(), null, "statistics file does not exist");
        }
        int width = model.config().intermediateSize();
        float[] sums;
        double count;
        try (Npz archive = Npz.open(npz)) {
            for (String name : new String[] {"mom2.mom2", "mom2.count"}) {
                if (!archive.contains(name)) {
                    throw new CheckpointFormatException(npz, "no entry '" + name + "' (entries: " + archive.names()
                            + "); expected ROME/ReFACT second-moment statistics");
                }
            }
            NpyArray mom2 = archive.get("mom2.mom2");
            long[] s = mom2.shape();
            if (s.length != 2 || s[0] != s[1]) {
                throw new CheckpointFormatException(npz, "mom2.mom2", "shape " + Arrays.toString(s)
                        + " is not square [d,d]");
            }
            if (s[0] != width) {
                throw new CheckpointFormatException(npz, "mom2.mom2", "is " + s[0] + "×" + s[1] + ", but the MLP "
                        + "width of " + model + " is " + width + " (statistics of another model?)");
            }
            if (!mom2.dtype().isFloatingPoint()) {
                throw new CheckpointFormatException(npz, "mom2.mom2", "dtype " + mom2.dtype() + " is not floating point");
            }
            NpyArray n = archive.get("mom2.count");
            if (n.numel() != 1) {
                throw new CheckpointFormatException(npz, "mom2.count", "shape " + Arrays.toString(n.shape())
                        + " is not a scalar");
            }
            count = n.toDoubles()[0];
            if (!(count >= 1) || count != Math.rint(count) || count >= 0x1p63) {
                throw new CheckpointFormatException(npz, "mom2.count", "is " + count + "; it must be a positive whole "
                        + "number of keys");
            }
            sums = mom2.toFloats();
        }
        String sha = sha256Of(npz);
        StatsProvenance p = new StatsProvenance(model.fingerprint(), layer, "imported:" + npz.getFileName(), sha,
                (long) count, "float32", 0, 0);
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Tensor m = Tensors.floats(sums, model.device(), width, width)
                    .to(torch.ScalarType.Double).div(new Scalar(count));               // [d,d] float64
            checkFiniteSymmetric(npz, m);
            return new CovarianceStats(m.retainReference(), layer, (long) count, p, 0.0);
        }
    }

    /**
     * Saves C and its provenance as a safetensors file: {@code mom2} [i,i] F64 (the mean, bit-exact) plus metadata
     * ({@code refact.kind = covariance}, layer, count, texts, max_tokens, corpus, corpus_sha256,
     * model_fingerprint, dtype, library_version; see {@code docs/formats.md}). The write is atomic: a temporary
     * file in the same folder is renamed over {@code file} only when complete, so a failure leaves an existing
     * file unchanged. Damping is not saved (it is a property of the solve, set with {@link #withDamping}).
     *
     * @param file the {@code .safetensors} file to write (replaced atomically if it exists)
     * @throws IOException if the folder does not exist or writing fails
     */
    public void save(Path file) throws IOException {
        synchronized (root) {    // the root's lock, which close() takes: a view must not read C while it is freed
            checkOpen();
            StatsFile.write(file, matrix, provenance);
        }
    }

    private static void checkFiniteSymmetric(Path file, Tensor m) throws CheckpointFormatException {
        if (!torch.isfinite(m).all().item_bool()) {
            throw new CheckpointFormatException(file, "covariance matrix has non-finite entries");
        }
        double asym = m.sub(m.t()).abs().max().item_double();
        double scale = Math.max(m.abs().max().item_double(), Double.MIN_NORMAL);
        if (asym > 1e-6 * scale) {
            throw new CheckpointFormatException(file, "covariance matrix is not symmetric (max |C − Cᵀ| = " + asym
                    + ", max |C| = " + scale + ")");
        }
    }

    private static String sha256Of(Path file) throws IOException {
        return dev.refact.clip.io.Sha256.ofFile(file);
    }

    /**
     * The layer whose fc2 inputs these are.
     *
     * @return the 0-based layer
     */
    public int layer() {
        checkOpen();
        return layer;
    }

    /**
     * The key width i.
     *
     * @return the MLP width, e.g. 3072 for SD 1.x
     */
    public int dim() {
        checkOpen();
        return (int) matrix.size(0);
    }

    /**
     * How many keys were averaged.
     *
     * @return the number of keys (tokens)
     */
    public long count() {
        checkOpen();
        return count;
    }

    /**
     * Where the statistics came from.
     *
     * @return the provenance (shared with every {@link #withDamping} view)
     */
    public StatsProvenance provenance() {
        checkOpen();
        return provenance;
    }

    /**
     * The damping λ in {@code C + λ·mean(diag C)·I}.
     *
     * @return λ ≥ 0; 0 means no damping
     */
    public double damping() {
        checkOpen();
        return damping;
    }

    /**
     * A short identifier: provenance id plus damping, recorded with every edit.
     *
     * @return {@link StatsProvenance#id()}, followed by {@code +damping=λ} when λ &gt; 0
     */
    public String id() {
        checkOpen();
        return provenance.id() + (damping > 0 ? "+damping=" + damping : "");
    }

    /**
     * The live matrix C [i,i] float64 (owned by this object: do not close, do not modify). Engine-level and unsafe.
     *
     * @return the internal [i,i] float64 tensor, valid until these statistics are closed
     * @deprecated returns a live internal tensor; use {@link #matrixValues()} (a copy)
     */
    @Deprecated
    public Tensor matrix() {
        checkOpen();
        return matrix;
    }

    /**
     * A copy of C as float64, row-major: [i·i] (72 MiB for SD 1.x's i = 3072).
     *
     * @throws IllegalStateException if closed
     * @return a copy of C
     */
    public double[] matrixValues() {
        synchronized (root) {
            checkOpen();
            return Tensors.toDoubles(matrix);
        }
    }

    /**
     * Whether these statistics were computed on the weights {@code modelFingerprint} identifies (their provenance
     * records the fingerprint of the model the keys came from).
     * @param modelFingerprint the model's fingerprint (64 hex digits)
     * @return whether the recorded fingerprint equals {@code modelFingerprint}
     */
    public boolean isFor(String modelFingerprint) {
        return provenance().modelFingerprint().equals(modelFingerprint);
    }

    /** {@return whether {@link #close()} has run} */
    public boolean isClosed() {
        return root.closed;
    }

    private void checkOpen() {
        if (root.closed) {
            throw new IllegalStateException("covariance statistics " + provenance.id() + " are closed");
        }
    }

    /** One line for logs and JShell: layer, size, count, damping, corpus and model fingerprint prefix. */
    @Override
    public String toString() {
        if (root.closed) {
            return "CovarianceStats[closed, " + provenance.id() + "]";
        }
        String fp = provenance.modelFingerprint();
        return "CovarianceStats[layer " + layer + ", " + matrix.size(0) + "×" + matrix.size(0) + " float64, "
                + count + " keys, corpus " + provenance.corpus() + (damping > 0 ? ", damping " + damping : "")
                + ", model " + fp.substring(0, Math.min(12, fp.length())) + "]";
    }

    /**
     * A view of the same C [i,i] with another damping λ. The view owns no native memory: it shares the (never
     * modified) matrix, and its factorisation of {@code C + λ·mean(diag C)·I} is made once and owned by the
     * statistics this view was taken from, which free it when they are closed (so building editors with the same
     * damping again and again costs one factorisation and no copies). Use the view only while those statistics
     * are open; closing the view is allowed and frees nothing.
     *
     * @param lambda the damping λ, finite and ≥ 0 (0 for none); replaces (does not add to) this object's damping
     * @return a view with damping {@code lambda}, backed by the same memory as these statistics
     * @throws IllegalArgumentException if λ is negative or not finite
     */
    public CovarianceStats withDamping(double lambda) {
        checkOpen();
        return new CovarianceStats(matrix, layer, count, provenance, lambda, root);
    }

    /** The Cholesky factors currently cached by the owning statistics, oldest use first (for ownership tests). */
    java.util.List<Tensor> cachedFactors() {
        synchronized (root) {
            return java.util.List.copyOf(root.factors.values());
        }
    }

    /**
     * Solves {@code (C + λ·mean(diag C)·I) x = k} with the cached Cholesky factor.
     *
     * @param k [i] key (any float dtype, any device)
     * @return x [i] float64 on the matrix's device (belongs to the caller's scope, see {@code Tensors.handOff})
     * @throws IllegalArgumentException if k has the wrong length or is not finite
     * @throws IllegalStateException    if C is singular or not positive definite (names the layer and
     *                                  suggests damping)
     */
    public Tensor solve(Tensor k) {
        synchronized (root) {
            return solveLocked(k);
        }
    }

    private Tensor solveLocked(Tensor k) {
        checkOpen();
        if (k.dim() != 1 || k.size(0) != dim()) {
            throw new IllegalArgumentException("key must be [" + dim() + "], got " + Tensors.shapeString(k));
        }
        Tensor out;
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Tensor kk = k.detach().to(matrix.device(), torch.ScalarType.Double);
            if (!torch.isfinite(kk).all().item_bool()) {
                throw new IllegalArgumentException("key has non-finite entries");
            }
            Tensor l = factor();
            Tensor x = torch.cholesky_solve(kk.unsqueeze(1), l, false).squeeze(1);
            if (!torch.isfinite(x).all().item_bool()) {
                throw new IllegalStateException(singularMessage("the solve produced non-finite values"));
            }
            out = x.retainReference();
        }
        return Tensors.handOff(out);
    }

    /** The factor for this view's damping, cached in (and owned by) the root. Call with the root's lock held. */
    private Tensor factor() {
        Tensor cached = root.factors.get(damping);
        if (cached != null) {
            return cached;
        }
        Tensor made;
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Tensor m = matrix;
            if (damping > 0) {
                double mean = matrix.diagonal().mean().item_double();
                // C + λ·mean·I without an identity matrix: add to a copy's diagonal in place
                m = matrix.clone();
                m.diagonal().add_(new Scalar(damping * mean));
            }
            Tensor l;
            try {
                l = torch.linalg_cholesky(m);
            } catch (RuntimeException e) {
                throw new IllegalStateException(singularMessage(firstLine(e.getMessage())), e);
            }
            made = l.retainReference();
        }
        if (root.factors.size() >= MAX_FACTORS) {
            var eldest = root.factors.entrySet().iterator().next();
            eldest.getValue().close();
            root.factors.remove(eldest.getKey());
        }
        root.factors.put(damping, made);
        return made;
    }

    private String singularMessage(String why) {
        return "covariance statistics for layer " + layer + " (" + provenance.id() + ", " + count
                + " keys) are singular or not positive definite: " + why
                + "; use more samples or a damping > 0 (Hyperparameters.covarianceDamping)";
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "factorisation failed";
        }
        int i = s.indexOf('\n');
        return i < 0 ? s : s.substring(0, i);
    }

    /**
     * Frees C and every cached factorisation. On a view from {@link #withDamping} this frees nothing (the
     * statistics it was taken from own the memory). Idempotent.
     */
    @Override
    public void close() {
        if (root != this) {
            return;
        }
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            matrix.close();
            for (Tensor f : factors.values()) {
                f.close();
            }
            factors.clear();
        }
    }
}
