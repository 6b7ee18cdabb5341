package dev.refact.core.eval;

/** The two benchmark formats ReFACT is evaluated on. */
public enum DatasetKind {
    /** RoAD (Roles and Appearances Dataset, ReFACT): columns Type, Prompt, Oracle, Old, New, Positive…, Negative…. */
    ROAD("RoAD"),
    /** TIMED (TIME dataset, Orgad et al. 2023): columns old, new, positive{i}, gt{i}, negative{i}, gn{i}. */
    TIME("TIME");

    private final String displayName;

    DatasetKind(String displayName) {
        this.displayName = displayName;
    }

    /**
     * The name used in the paper and in reports ("RoAD", "TIME").
     *
     * @return the display name
     */
    public String displayName() {
        return displayName;
    }
}
