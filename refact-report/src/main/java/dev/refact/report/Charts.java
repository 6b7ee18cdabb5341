package dev.refact.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.List;
import java.util.Locale;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.labels.ItemLabelAnchor;
import org.jfree.chart.labels.ItemLabelPosition;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.StatisticalBarRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.statistics.DefaultStatisticalCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** Bar and line charts of percentages (0–100), drawn with JFreeChart and written as PNG (1000 × 560). */
final class Charts {
    static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xaec7e8), new Color(0xff7f0e),
        new Color(0x2ca02c), new Color(0x9e9e9e), new Color(0xd62728), new Color(0x9467bd)};
    static final int WIDTH = 1000;
    static final int HEIGHT = 560;

    /**
     * One series.
     *
     * @param name   legend text
     * @param color  fill/line colour
     * @param values one value per group (bar chart) or per x (line chart), in percent; NaN = absent
     * @param std    error bars in percent (same length), or {@code null}
     */
    record Series(String name, Color color, double[] values, double[] std) {
    }

    private Charts() {
    }

    /** Grouped bars: one group per label, one bar per series, values printed above the bars, std error bars. */
    static void bars(String title, String subtitle, List<String> groups, List<Series> series, Path out)
            throws IOException {
        DefaultStatisticalCategoryDataset data = new DefaultStatisticalCategoryDataset();
        for (Series s : series) {
            for (int g = 0; g < groups.size(); g++) {
                double v = s.values()[g];
                double sd = s.std() == null ? Double.NaN : s.std()[g];
                data.add(Double.isNaN(v) ? null : v, Double.isNaN(sd) || sd <= 0 ? null : sd, s.name(),
                        groups.get(g));
            }
        }
        NumberAxis y = percentAxis();
        StatisticalBarRenderer bars = new StatisticalBarRenderer();
        bars.setErrorIndicatorPaint(Color.BLACK);
        bars.setItemMargin(0.02);
        bars.setShadowVisible(false);
        bars.setDrawBarOutline(false);
        bars.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator("{2}", oneDecimal()));
        bars.setDefaultItemLabelsVisible(true);
        bars.setDefaultItemLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
        bars.setDefaultPositiveItemLabelPosition(new ItemLabelPosition(ItemLabelAnchor.OUTSIDE12,
                TextAnchor.BOTTOM_CENTER));
        for (int i = 0; i < series.size(); i++) {
            bars.setSeriesPaint(i, series.get(i).color());
        }
        CategoryPlot plot = new CategoryPlot(data, new org.jfree.chart.axis.CategoryAxis(), y, bars);
        plot.setOrientation(PlotOrientation.VERTICAL);
        write(chart(title, subtitle, plot), out);
    }

    /** Line plot over x (e.g. number of sequential edits), one line with markers per series. */
    static void lines(String title, String subtitle, String xLabel, double[] x, List<Series> series, Path out)
            throws IOException {
        XYSeriesCollection data = new XYSeriesCollection();
        for (Series s : series) {
            XYSeries xy = new XYSeries(s.name(), false, true);
            for (int i = 0; i < x.length; i++) {
                if (!Double.isNaN(s.values()[i])) {
                    xy.add(x[i], s.values()[i]);
                }
            }
            data.addSeries(xy);
        }
        XYLineAndShapeRenderer lines = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < series.size(); i++) {
            lines.setSeriesPaint(i, series.get(i).color());
            lines.setSeriesStroke(i, new BasicStroke(2f));
        }
        NumberAxis xAxis = new NumberAxis(xLabel);
        xAxis.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        xAxis.setAutoRangeIncludesZero(false);
        XYPlot plot = new XYPlot(data, xAxis, percentAxis(), lines);
        write(chart(title, subtitle, plot), out);
    }

    private static NumberAxis percentAxis() {
        NumberAxis y = new NumberAxis("percent");
        y.setRange(0, 105);
        y.setTickUnit(new org.jfree.chart.axis.NumberTickUnit(20));
        return y;
    }

    private static DecimalFormat oneDecimal() {
        return new DecimalFormat("0.0", DecimalFormatSymbols.getInstance(Locale.ROOT));
    }

    private static JFreeChart chart(String title, String subtitle, org.jfree.chart.plot.Plot plot) {
        JFreeChart chart = new JFreeChart(title, new Font(Font.SANS_SERIF, Font.BOLD, 15), plot, true);
        chart.addSubtitle(new TextTitle(subtitle, new Font(Font.SANS_SERIF, Font.PLAIN, 12)));
        chart.setBackgroundPaint(Color.WHITE);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setOutlinePaint(Color.GRAY);
        if (plot instanceof CategoryPlot c) {
            c.setRangeGridlinePaint(Color.LIGHT_GRAY);
        } else if (plot instanceof XYPlot xy) {
            xy.setRangeGridlinePaint(Color.LIGHT_GRAY);
            xy.setDomainGridlinePaint(Color.LIGHT_GRAY);
        }
        return chart;
    }

    /** Renders to a temporary file beside {@code out}, then renames it (a failed chart leaves no partial PNG). */
    private static void write(JFreeChart chart, Path out) throws IOException {
        dev.refact.clip.io.AtomicFiles.write(out, o -> ChartUtils.writeChartAsPNG(o, chart, WIDTH, HEIGHT));
    }
}
