package dev.refact.core.eval;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/** Bar and line charts of percentages (0–100) drawn with Java2D and written as PNG. */
final class Charts {
    static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xaec7e8), new Color(0xff7f0e),
        new Color(0x2ca02c), new Color(0x9e9e9e), new Color(0xd62728), new Color(0x9467bd)};
    private static final int W = 1000;
    private static final int H = 560;
    private static final int LEFT = 70;
    private static final int RIGHT = 30;
    private static final int TOP = 70;
    private static final int BOTTOM = 120;

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

    /** Grouped bars: one group per label, one bar per series, values printed above the bars. */
    static void bars(String title, String subtitle, List<String> groups, List<Series> series, Path out)
            throws IOException {
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = start(img, title, subtitle);
        try {
            axes(g, "percent");
            int plotW = W - LEFT - RIGHT;
            double groupW = (double) plotW / groups.size();
            double barW = Math.min(48, groupW * 0.8 / series.size());
            Font small = new Font(Font.SANS_SERIF, Font.PLAIN, 11);
            for (int gi = 0; gi < groups.size(); gi++) {
                double x0 = LEFT + gi * groupW + (groupW - barW * series.size()) / 2;
                for (int si = 0; si < series.size(); si++) {
                    Series s = series.get(si);
                    double v = s.values()[gi];
                    int x = (int) Math.round(x0 + si * barW);
                    if (Double.isNaN(v)) {
                        g.setColor(Color.GRAY);
                        g.setFont(small);
                        centered(g, "n/a", x + barW / 2, y(0) - 4);
                        continue;
                    }
                    int yv = y(v);
                    g.setColor(s.color());
                    g.fillRect(x, yv, (int) Math.max(1, barW - 2), y(0) - yv);
                    if (s.std() != null && !Double.isNaN(s.std()[gi]) && s.std()[gi] > 0) {
                        g.setColor(Color.BLACK);
                        int cx = (int) (x + (barW - 2) / 2);
                        int a = y(Math.min(100, v + s.std()[gi]));
                        int b = y(Math.max(0, v - s.std()[gi]));
                        g.drawLine(cx, a, cx, b);
                        g.drawLine(cx - 3, a, cx + 3, a);
                        g.drawLine(cx - 3, b, cx + 3, b);
                    }
                    g.setColor(Color.DARK_GRAY);
                    g.setFont(small);
                    centered(g, String.format(Locale.ROOT, "%.1f", v), x + (barW - 2) / 2, yv - 4);
                }
                g.setColor(Color.BLACK);
                g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
                centered(g, groups.get(gi), LEFT + gi * groupW + groupW / 2, y(0) + 20);
            }
            legend(g, series, y(0) + 40);
        } finally {
            g.dispose();
        }
        write(img, out);
    }

    /** Lines with markers over numeric x values. */
    static void lines(String title, String subtitle, String xLabel, double[] x, List<Series> series, Path out)
            throws IOException {
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = start(img, title, subtitle);
        try {
            axes(g, "percent");
            double xmin = x.length == 0 ? 0 : Math.min(0, x[0]);
            double xmax = x.length == 0 ? 1 : Math.max(x[x.length - 1], xmin + 1);
            int plotW = W - LEFT - RIGHT - 20;
            java.util.function.DoubleToIntFunction px = v -> (int) Math.round(LEFT + 10 + (v - xmin) / (xmax - xmin)
                    * plotW);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            g.setColor(Color.BLACK);
            for (double xv : x) {
                int xx = px.applyAsInt(xv);
                g.drawLine(xx, y(0), xx, y(0) + 4);
                centered(g, String.format(Locale.ROOT, xv == Math.rint(xv) ? "%.0f" : "%.2f", xv), xx, y(0) + 18);
            }
            centered(g, xLabel, LEFT + (W - LEFT - RIGHT) / 2.0, y(0) + 38);
            g.setStroke(new BasicStroke(2.2f));
            for (Series s : series) {
                g.setColor(s.color());
                int px0 = -1;
                int py0 = -1;
                for (int i = 0; i < x.length; i++) {
                    double v = s.values()[i];
                    if (Double.isNaN(v)) {
                        px0 = -1;
                        continue;
                    }
                    int xx = px.applyAsInt(x[i]);
                    int yy = y(v);
                    if (px0 >= 0) {
                        g.drawLine(px0, py0, xx, yy);
                    }
                    g.fillOval(xx - 4, yy - 4, 8, 8);
                    px0 = xx;
                    py0 = yy;
                }
            }
            g.setStroke(new BasicStroke(1f));
            legend(g, series, y(0) + 56);
        } finally {
            g.dispose();
        }
        write(img, out);
    }

    private static Graphics2D start(BufferedImage img, String title, String subtitle) {
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
        centered(g, title, W / 2.0, 28);
        if (subtitle != null && !subtitle.isEmpty()) {
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            g.setColor(Color.DARK_GRAY);
            centered(g, subtitle, W / 2.0, 50);
        }
        return g;
    }

    private static void axes(Graphics2D g, String yLabel) {
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        for (int v = 0; v <= 100; v += 20) {
            int yy = y(v);
            g.setColor(new Color(0xe6e6e6));
            g.drawLine(LEFT, yy, W - RIGHT, yy);
            g.setColor(Color.BLACK);
            String s = Integer.toString(v);
            g.drawString(s, LEFT - 8 - g.getFontMetrics().stringWidth(s), yy + 4);
        }
        g.setColor(Color.BLACK);
        g.drawLine(LEFT, y(0), W - RIGHT, y(0));
        g.drawLine(LEFT, y(0), LEFT, y(100));
        AffineTransform t = g.getTransform();
        g.rotate(-Math.PI / 2);
        g.drawString(yLabel, -(y(50) + g.getFontMetrics().stringWidth(yLabel) / 2), 20);
        g.setTransform(t);
    }

    private static void legend(Graphics2D g, List<Series> series, int top) {
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        FontMetrics fm = g.getFontMetrics();
        int x = LEFT;
        int yy = top;
        for (Series s : series) {
            int w = 18 + fm.stringWidth(s.name()) + 24;
            if (x + w > W - RIGHT) {
                x = LEFT;
                yy += 20;
            }
            g.setColor(s.color());
            g.fillRect(x, yy - 10, 12, 12);
            g.setColor(Color.BLACK);
            g.drawString(s.name(), x + 18, yy);
            x += w;
        }
    }

    private static int y(double percent) {
        return (int) Math.round(H - BOTTOM - percent / 100.0 * (H - BOTTOM - TOP));
    }

    private static void centered(Graphics2D g, String s, double cx, double baseline) {
        g.drawString(s, (float) (cx - g.getFontMetrics().stringWidth(s) / 2.0), (float) baseline);
    }

    private static void write(BufferedImage img, Path out) throws IOException {
        dev.refact.clip.io.AtomicFiles.write(out, s -> {
            if (!ImageIO.write(img, "png", s)) {
                throw new IOException(out + ": no PNG writer available");
            }
        });
    }
}
