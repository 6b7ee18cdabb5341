package dev.refact.clip.vision;

/**
 * Pillow's resampling filters, numbered as {@code PIL.Image.Resampling} (the {@code resample} field
 * of a {@code preprocessor_config.json}).
 *
 * <p>CLIP uses {@link #BICUBIC} (3). {@link #NEAREST} is not supported: Pillow implements it as an
 * affine transform, not as the convolution that {@link ClipImageProcessor} reproduces.
 */
public enum Resample {
    /** 0: nearest neighbour (not supported). */
    NEAREST(0, 0.0),
    /** 1: Lanczos, a = 3 (uses {@code sin}; may differ from C's libm by one ulp in rare cases). */
    LANCZOS(1, 3.0),
    /** 2: bilinear (triangle) filter. */
    BILINEAR(2, 1.0),
    /** 3: bicubic, Keys cubic with a = -0.5 (CLIP's choice). */
    BICUBIC(3, 2.0),
    /** 4: box filter. */
    BOX(4, 0.5),
    /** 5: Hamming-windowed sinc (uses {@code sin}/{@code cos}). */
    HAMMING(5, 1.0);

    private final int code;
    private final double support;

    Resample(int code, double support) {
        this.code = code;
        this.support = support;
    }

    /**
     * The {@code PIL.Image.Resampling} number.
     *
     * @return 0..5, e.g. 3 for {@link #BICUBIC}
     */
    public int code() {
        return code;
    }

    /** The filter's support radius at scale 1 (Pillow's {@code struct filter.support}). */
    double support() {
        return support;
    }

    /**
     * The filter with the given Pillow number.
     *
     * @param code a {@code PIL.Image.Resampling} number, 0..5
     * @return the filter (also {@link #NEAREST} for 0, which {@link ImageProcessorConfig} refuses for resizing)
     * @throws IllegalArgumentException for a number outside 0..5
     */
    public static Resample fromCode(int code) {
        for (Resample r : values()) {
            if (r.code == code) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown PIL resampling filter " + code + " (expected 0..5; 3 = BICUBIC)");
    }

    /** Pillow's filter functions ({@code src/libImaging/Resample.c}). */
    double weight(double x) {
        switch (this) {
            case BOX:
                return x > -0.5 && x <= 0.5 ? 1.0 : 0.0;
            case BILINEAR:
                x = Math.abs(x);
                return x < 1.0 ? 1.0 - x : 0.0;
            case BICUBIC: {
                final double a = -0.5;
                x = Math.abs(x);
                if (x < 1.0) {
                    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
                }
                if (x < 2.0) {
                    return (((x - 5) * x + 8) * x - 4) * a;
                }
                return 0.0;
            }
            case HAMMING:
                x = Math.abs(x);
                if (x == 0.0) {
                    return 1.0;
                }
                if (x >= 1.0) {
                    return 0.0;
                }
                x = x * Math.PI;
                // C: sin(x) / x * (0.54f + 0.46f * cos(x)); the float literals are widened to double.
                return Math.sin(x) / x * ((double) 0.54f + (double) 0.46f * Math.cos(x));
            case LANCZOS:
                if (-3.0 <= x && x < 3.0) {
                    return sinc(x) * sinc(x / 3);
                }
                return 0.0;
            default:
                throw new IllegalStateException(this + " has no convolution kernel");
        }
    }

    private static double sinc(double x) {
        if (x == 0.0) {
            return 1.0;
        }
        x = x * Math.PI;
        return Math.sin(x) / x;
    }
}
