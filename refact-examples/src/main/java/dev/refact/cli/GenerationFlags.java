package dev.refact.cli;

import dev.refact.diffusion.GenerationOptions;
import dev.refact.diffusion.SchedulerKind;

/** Builds {@link GenerationOptions} from flags; a bad value is reported with the flag's name, before any loading. */
final class GenerationFlags {
    private GenerationFlags() {
    }

    static GenerationOptions options(String stepsFlag, int steps, double guidance, String scheduler, long seed,
                                     int height, int width) {
        try {
            return new GenerationOptions(steps, guidance, SchedulerKind.parse(scheduler), seed, height, width);
        } catch (IllegalArgumentException e) {
            String m = e.getMessage();
            if (m.startsWith("height and width")) {
                m = "--height and --width" + m.substring("height and width".length());
            } else if (m.startsWith("steps")) {
                m = stepsFlag + m.substring("steps".length());
            } else if (m.startsWith("guidance scale")) {
                m = "--guidance" + m.substring("guidance scale".length());
            }
            throw new IllegalArgumentException(m, e);
        }
    }
}
