package dev.refact.cli;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;

/** Parses {@code --rows 0..9}, {@code --seeds 0..24}, {@code --layers 5,7,9}, {@code --lr 0.01,0.05}. */
final class Ranges {
    private Ranges() {
    }

    /**
     * Integers from a list of values and inclusive ranges: {@code "3"}, {@code "0..24"}, {@code "0,2,5..7"}.
     *
     * @throws IllegalArgumentException naming the option and the bad part
     */
    static List<Integer> ints(String spec, String option) {
        LinkedHashSet<Integer> out = new LinkedHashSet<>();
        for (String part : spec.split(",")) {
            String p = part.strip();
            try {
                int dots = p.indexOf("..");
                if (dots >= 0) {
                    int a = Integer.parseInt(p.substring(0, dots).strip());
                    int b = Integer.parseInt(p.substring(dots + 2).strip());
                    if (b < a) {
                        throw new IllegalArgumentException(option + ": range " + p + " is empty (end before start)");
                    }
                    for (int i = a; i <= b; i++) {
                        out.add(i);
                    }
                } else {
                    out.add(Integer.parseInt(p));
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(option + ": '" + p + "' is not an integer or a range a..b "
                        + "(e.g. 0..24 or 0,2,5..7)");
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(option + ": no values");
        }
        for (int v : out) {
            if (v < 0) {
                throw new IllegalArgumentException(option + ": values must be >= 0, got " + v);
            }
        }
        return new ArrayList<>(out);
    }

    /**
     * Comma-separated numbers, e.g. {@code "0.01,0.05"}.
     *
     * @throws IllegalArgumentException naming the option and the bad part
     */
    static List<Double> doubles(String spec, String option) {
        List<Double> out = new ArrayList<>();
        for (String part : spec.split(",")) {
            try {
                double v = Double.parseDouble(part.strip());
                if (!out.contains(v)) {
                    out.add(v);
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(option + ": '" + part.strip() + "' is not a number");
            }
        }
        return out;
    }

    /** "0..24" for a contiguous list, else the values. */
    static String describe(List<Integer> values) {
        int min = values.stream().mapToInt(Integer::intValue).min().orElse(0);
        int max = values.stream().mapToInt(Integer::intValue).max().orElse(0);
        if (max - min + 1 == values.size()) {
            return min == max ? Integer.toString(min) : String.format(Locale.ROOT, "%d..%d", min, max);
        }
        return String.join(",", values.stream().map(String::valueOf).toList());
    }
}
