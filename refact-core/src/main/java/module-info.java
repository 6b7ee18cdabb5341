/**
 * The ReFACT editor, covariance statistics and the evaluation runners.
 *
 * <p>Every package is API. Rule: a new API package must be added here (the coordinator adds the packages of
 * branches merged later, e.g. {@code dev.refact.core.lora}).
 */
module dev.refact.core {
    requires transitive dev.refact.clip;
    requires com.google.gson;
    // EJML has no module name of its own: these are its automatic names (from the jar file names).
    requires ejml.core;
    requires ejml.ddense;

    exports dev.refact.core;
    exports dev.refact.core.eval;
    exports dev.refact.core.lora;
    exports dev.refact.core.stats;
}
