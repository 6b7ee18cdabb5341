package dev.refact.core;

import dev.refact.clip.ClipTextModel;
import dev.refact.core.stats.CovarianceStats;
import java.util.List;

/**
 * The misuse checks every {@link Editor} from {@link Editor#builder()} applies before delegating: the model is
 * claimed for the whole edit ({@link ClipTextModel#claimForEdit()}: a concurrent edit of the same model fails
 * fast), and statistics computed on another model are refused (or, when allowed, logged as a warning).
 */
final class CheckedEditor implements Editor {
    private static final System.Logger LOG = System.getLogger(Editor.class.getName());

    private final Editor delegate;
    private final CovarianceStats stats;
    private final boolean allowForeignStatistics;

    CheckedEditor(Editor delegate, CovarianceStats stats, boolean allowForeignStatistics) {
        this.delegate = delegate;
        this.stats = stats;
        this.allowForeignStatistics = allowForeignStatistics;
    }

    @Override
    public EditResult edit(ClipTextModel model, EditRequest request) {
        try (ClipTextModel.EditClaim claim = model.claimForEdit()) {
            checkStatistics(model);
            long start = System.nanoTime();
            EditResult r = delegate.edit(model, request);
            LOG.log(System.Logger.Level.DEBUG, () -> String.format(java.util.Locale.ROOT, "%s in %.1f s", r,
                    (System.nanoTime() - start) / 1e9));
            return r;
        }
    }

    @Override
    public List<EditResult> edit(ClipTextModel model, List<EditRequest> requests) {
        try (ClipTextModel.EditClaim claim = model.claimForEdit()) {
            checkStatistics(model);
            return delegate.edit(model, requests);
        }
    }

    @Override
    public JointEditResult editJointly(ClipTextModel model, List<EditRequest> requests, JointOptions options) {
        try (ClipTextModel.EditClaim claim = model.claimForEdit()) {
            checkStatistics(model);
            return delegate.editJointly(model, requests, options);
        }
    }

    @Override
    public List<JointEditResult> editSequentially(ClipTextModel model, List<EditRequest> requests,
                                                  JointOptions options, boolean protect) {
        try (ClipTextModel.EditClaim claim = model.claimForEdit()) {
            checkStatistics(model);
            return delegate.editSequentially(model, requests, options, protect);
        }
    }

    @Override
    public Hyperparameters hyperparameters() {
        return delegate.hyperparameters();
    }

    private void checkStatistics(ClipTextModel model) {
        if (delegate.hyperparameters().layer() < model.config().numHiddenLayers()) { // else the editor says so
            checkStatistics(model, stats, allowForeignStatistics);
        }
    }

    /**
     * Refuses statistics whose provenance names other weights than the model's current or base (as loaded)
     * weights. Statistics of unknown origin (no fingerprint of 64 hex digits recorded, e.g. "unknown") pass with a
     * warning.
     *
     * @throws IllegalArgumentException if the fingerprints differ and foreign statistics are not allowed
     * @throws IllegalStateException    if the statistics are closed
     */
    static void checkStatistics(ClipTextModel model, CovarianceStats stats, boolean allowForeign) {
        String recorded = stats.provenance().modelFingerprint();
        if (!dev.refact.core.stats.ForeignStatistics.recordsModel(stats)) {
            LOG.log(System.Logger.Level.WARNING, () -> "covariance statistics " + stats.id()
                    + " do not record which model they were computed on; using them for " + model.source());
            return;
        }
        if (dev.refact.core.stats.ForeignStatistics.computedOn(stats, model)) {
            return;
        }
        String msg = "covariance statistics " + stats.id() + " were computed on a model with fingerprint "
                + EditFileChecks.shortFingerprint(recorded) + ", but this model's weights are " + EditFileChecks.shortFingerprint(model.fingerprint())
                + (model.changes().isEmpty() ? "" : " (loaded as " + EditFileChecks.shortFingerprint(model.baseFingerprint()) + ")");
        if (allowForeign) {
            LOG.log(System.Logger.Level.WARNING, msg + " (allowed by the editor's allowStatisticsOfOtherModels)");
            return;
        }
        throw new IllegalArgumentException(msg + "; compute statistics for this model, or allow it with "
                + "Editor.builder().allowStatisticsOfOtherModels(true)");
    }


    @Override
    public String toString() {
        return "Editor[" + delegate.hyperparameters().layer() + ", statistics " + stats.id()
                + (allowForeignStatistics ? ", statistics of other models allowed" : "") + "]";
    }
}
