package dev.refact.diffusion;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Objects;

/**
 * A labelled grid of images in one picture: e.g. rows "before"/"after" an edit and one column per
 * seed, or rows = prompts and columns = seeds.
 *
 * <p>Usage: {@code ImageGrid.compose(List.of(beforeImages, afterImages), List.of("before", "after"),
 * List.of("seed 0", "seed 1"), "The President of the United States")}. White background, black
 * labels (row labels on the left, column labels on top, an optional title above), 8 px gaps.
 * Text needs a font; on a system without any, the grid is drawn without labels.
 */
public final class ImageGrid {
    private static final int GAP = 8;

    private ImageGrid() {
    }

    /**
     * Composes a grid.
     *
     * @param rows         rows of images; all rows the same length, every image any size (cells take the largest)
     * @param rowLabels    one label per row, or empty for none
     * @param columnLabels one label per column, or empty for none
     * @param title        text above the grid, or {@code null}
     * @return a new {@code TYPE_INT_RGB} image holding the grid (images top-left aligned in their cells)
     * @throws IllegalArgumentException for ragged rows or label counts that do not match
     */
    public static BufferedImage compose(List<List<BufferedImage>> rows, List<String> rowLabels,
                                        List<String> columnLabels, String title) {
        Objects.requireNonNull(rows, "rows");
        if (rows.isEmpty() || rows.get(0).isEmpty()) {
            throw new IllegalArgumentException("grid needs at least one image");
        }
        int cols = rows.get(0).size();
        for (int r = 0; r < rows.size(); r++) {
            if (rows.get(r).size() != cols) {
                throw new IllegalArgumentException("row " + r + " has " + rows.get(r).size() + " images, row 0 has "
                        + cols);
            }
        }
        if (!rowLabels.isEmpty() && rowLabels.size() != rows.size()) {
            throw new IllegalArgumentException(rowLabels.size() + " row labels for " + rows.size() + " rows");
        }
        if (!columnLabels.isEmpty() && columnLabels.size() != cols) {
            throw new IllegalArgumentException(columnLabels.size() + " column labels for " + cols + " columns");
        }
        int cellW = 0;
        int cellH = 0;
        for (List<BufferedImage> row : rows) {
            for (BufferedImage im : row) {
                cellW = Math.max(cellW, im.getWidth());
                cellH = Math.max(cellH, im.getHeight());
            }
        }
        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, Math.max(11, Math.min(18, cellH / 16)));
        FontMetrics fm = metrics(font);
        int lineH = fm == null ? 0 : fm.getHeight();
        int labelW = 0;
        if (fm != null) {
            for (String s : rowLabels) {
                labelW = Math.max(labelW, fm.stringWidth(s));
            }
        }
        int left = GAP + (labelW > 0 ? labelW + GAP : 0);
        int titleH = fm != null && title != null && !title.isEmpty() ? lineH + GAP : 0;
        int top = GAP + titleH + (fm != null && !columnLabels.isEmpty() ? lineH + GAP / 2 : 0);
        int width = left + cols * (cellW + GAP);
        int height = top + rows.size() * (cellH + GAP);
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            for (int r = 0; r < rows.size(); r++) {
                for (int c = 0; c < cols; c++) {
                    BufferedImage im = rows.get(r).get(c);
                    g.drawImage(im, left + c * (cellW + GAP), top + r * (cellH + GAP), null);
                }
            }
            if (fm != null) {
                g.setColor(Color.BLACK);
                g.setFont(font);
                g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
                if (titleH > 0) {
                    g.drawString(fit(title, fm, width - 2 * GAP), GAP, GAP + fm.getAscent());
                }
                for (int c = 0; c < columnLabels.size(); c++) {
                    g.drawString(fit(columnLabels.get(c), fm, cellW), left + c * (cellW + GAP),
                            GAP + titleH + fm.getAscent());
                }
                for (int r = 0; r < rowLabels.size(); r++) {
                    g.drawString(rowLabels.get(r), GAP, top + r * (cellH + GAP) + cellH / 2 + fm.getAscent() / 2);
                }
            }
        } finally {
            g.dispose();
        }
        return out;
    }

    private static FontMetrics metrics(Font font) {
        try {
            BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = probe.createGraphics();
            try {
                return g.getFontMetrics(font);
            } finally {
                g.dispose();
            }
        } catch (RuntimeException | Error e) {
            return null; // no fonts on this system: draw without labels
        }
    }

    private static String fit(String s, FontMetrics fm, int width) {
        if (fm.stringWidth(s) <= width) {
            return s;
        }
        String t = s;
        while (t.length() > 1 && fm.stringWidth(t + "…") > width) {
            t = t.substring(0, t.length() - 1);
        }
        return t + "…";
    }
}
