/** Markdown, CSV and PNG reports of refact-core evaluation results. */
module dev.refact.report {
    requires transitive dev.refact.core;
    requires java.desktop;
    requires org.apache.commons.csv;
    requires org.jfree.jfreechart;

    exports dev.refact.report;
}
