package dev.refact.clip.vision;

/**
 * Pillow's {@code Image.resize(size, resample)} for 8-bit RGB images, reproduced bit for bit.
 *
 * <p>Follows Pillow 9.4 {@code src/libImaging/Resample.c} ({@code ImagingResampleInner},
 * {@code precompute_coeffs}, {@code normalize_coeffs_8bpc}, the {@code _8bpc} passes), with the
 * full-image box and no {@code reducing_gap} (HF calls {@code image.resize((w, h), resample=...,
 * reducing_gap=None)}):
 * <ul>
 *   <li>Per output pixel: {@code scale = in/out}, {@code filterscale = max(scale, 1)} (the kernel
 *       is widened by the scale when downscaling: antialiasing), {@code support = filter.support ·
 *       filterscale}, {@code center = (i + 0.5)·scale}, taps {@code [(int)(center − support + 0.5),
 *       (int)(center + support + 0.5))} clipped to the image, weights {@code filter((x − center +
 *       0.5)/filterscale)} divided by their sum (taps outside the image are dropped, not mirrored).</li>
 *   <li>Weights to 22-bit fixed point ({@code PRECISION_BITS = 32 − 8 − 2}), rounded half away
 *       from zero; accumulation in 32-bit ints starting at {@code 1 << 21}; result {@code >> 22}
 *       clipped to 0..255.</li>
 *   <li>Horizontal pass first (only over the source rows the vertical pass will read), then the
 *       vertical pass; each pass stores uint8. A pass whose size does not change is skipped; equal
 *       sizes return a copy.</li>
 * </ul>
 */
final class PillowResize {
    static final int PRECISION_BITS = 32 - 8 - 2;

    private PillowResize() {
    }

    /** Per-output-pixel tap ranges and fixed-point weights for one axis. */
    record Coefficients(int ksize, int[] bounds, int[] weights) {
        int min(int i) {
            return bounds[2 * i];
        }

        int count(int i) {
            return bounds[2 * i + 1];
        }
    }

    static RgbImage resize(RgbImage in, int outWidth, int outHeight, Resample filter) {
        if (outWidth < 1 || outHeight < 1) {
            throw new IllegalArgumentException("resize target must be positive, got " + outWidth + "x" + outHeight);
        }
        if (filter == Resample.NEAREST) {
            throw new IllegalArgumentException("resample NEAREST (0) is not supported; use BICUBIC (3)");
        }
        int inW = in.width();
        int inH = in.height();
        if (inW == outWidth && inH == outHeight) {
            return in;
        }
        boolean needHorizontal = outWidth != inW;
        boolean needVertical = outHeight != inH;

        Coefficients vert = precompute(inH, outHeight, filter);
        int yFirst = vert.min(0);
        int yLast = vert.min(outHeight - 1) + vert.count(outHeight - 1);

        byte[] src = in.pixels();
        int srcW = inW;
        int srcH = inH;
        if (needHorizontal) {
            Coefficients horiz = precompute(inW, outWidth, filter);
            int rows = yLast - yFirst;
            byte[] tmp = new byte[outWidth * rows * 3];
            horizontal(src, inW, yFirst, rows, horiz, outWidth, tmp);
            for (int i = 0; i < outHeight; i++) {
                vert.bounds[2 * i] -= yFirst;
            }
            src = tmp;
            srcW = outWidth;
            srcH = rows;
        }
        if (needVertical) {
            byte[] out = new byte[srcW * outHeight * 3];
            vertical(src, srcW, vert, outHeight, out);
            return RgbImage.wrap(srcW, outHeight, out);
        }
        return RgbImage.wrap(srcW, srcH, src == in.pixels() ? src.clone() : src);
    }

    /** Pillow's {@code precompute_coeffs} followed by {@code normalize_coeffs_8bpc}, for box (0, inSize). */
    static Coefficients precompute(int inSize, int outSize, Resample filter) {
        // float in0 = 0, in1 = inSize: (double)(in1 - in0) / outSize
        double scale = (double) (float) inSize / outSize;
        double filterscale = Math.max(scale, 1.0);
        double support = filter.support() * filterscale;
        int ksize = (int) Math.ceil(support) * 2 + 1;
        int[] bounds = new int[outSize * 2];
        int[] weights = new int[outSize * ksize];
        double[] k = new double[ksize];
        double ss = 1.0 / filterscale;
        for (int xx = 0; xx < outSize; xx++) {
            double center = (xx + 0.5) * scale;
            double ww = 0.0;
            int xmin = (int) (center - support + 0.5);
            if (xmin < 0) {
                xmin = 0;
            }
            int xmax = (int) (center + support + 0.5);
            if (xmax > inSize) {
                xmax = inSize;
            }
            xmax -= xmin;
            for (int x = 0; x < xmax; x++) {
                double w = filter.weight((x + xmin - center + 0.5) * ss);
                k[x] = w;
                ww += w;
            }
            for (int x = 0; x < ksize; x++) {
                double v = x < xmax ? (ww != 0.0 ? k[x] / ww : k[x]) : 0.0;
                weights[xx * ksize + x] = v < 0
                        ? (int) (-0.5 + v * (1 << PRECISION_BITS))
                        : (int) (0.5 + v * (1 << PRECISION_BITS));
            }
            bounds[2 * xx] = xmin;
            bounds[2 * xx + 1] = xmax;
        }
        return new Coefficients(ksize, bounds, weights);
    }

    private static int clip8(int v) {
        int s = v >> PRECISION_BITS;
        return s < 0 ? 0 : Math.min(s, 255);
    }

    /** {@code ImagingResampleHorizontal_8bpc}: rows {@code offset .. offset+rows-1} of {@code src}. */
    private static void horizontal(byte[] src, int srcW, int offset, int rows, Coefficients c, int outW,
            byte[] out) {
        int ksize = c.ksize();
        int[] kk = c.weights();
        for (int yy = 0; yy < rows; yy++) {
            int rowBase = (yy + offset) * srcW * 3;
            int outBase = yy * outW * 3;
            for (int xx = 0; xx < outW; xx++) {
                int xmin = c.min(xx);
                int xmax = c.count(xx);
                int kb = xx * ksize;
                int ss0 = 1 << (PRECISION_BITS - 1);
                int ss1 = ss0;
                int ss2 = ss0;
                for (int x = 0; x < xmax; x++) {
                    int p = rowBase + (x + xmin) * 3;
                    int w = kk[kb + x];
                    ss0 += (src[p] & 0xFF) * w;
                    ss1 += (src[p + 1] & 0xFF) * w;
                    ss2 += (src[p + 2] & 0xFF) * w;
                }
                int o = outBase + xx * 3;
                out[o] = (byte) clip8(ss0);
                out[o + 1] = (byte) clip8(ss1);
                out[o + 2] = (byte) clip8(ss2);
            }
        }
    }

    /** {@code ImagingResampleVertical_8bpc}. */
    private static void vertical(byte[] src, int w, Coefficients c, int outH, byte[] out) {
        int ksize = c.ksize();
        int[] kk = c.weights();
        int stride = w * 3;
        for (int yy = 0; yy < outH; yy++) {
            int ymin = c.min(yy);
            int ymax = c.count(yy);
            int kb = yy * ksize;
            int outBase = yy * stride;
            for (int xx = 0; xx < w; xx++) {
                int ss0 = 1 << (PRECISION_BITS - 1);
                int ss1 = ss0;
                int ss2 = ss0;
                for (int y = 0; y < ymax; y++) {
                    int p = (y + ymin) * stride + xx * 3;
                    int wt = kk[kb + y];
                    ss0 += (src[p] & 0xFF) * wt;
                    ss1 += (src[p + 1] & 0xFF) * wt;
                    ss2 += (src[p + 2] & 0xFF) * wt;
                }
                int o = outBase + xx * 3;
                out[o] = (byte) clip8(ss0);
                out[o + 1] = (byte) clip8(ss1);
                out[o + 2] = (byte) clip8(ss2);
            }
        }
    }
}
