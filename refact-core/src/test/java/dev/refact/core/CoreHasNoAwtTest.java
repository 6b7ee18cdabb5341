package dev.refact.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * refact-core is a library without a desktop: no class of it may reference AWT, ImageIO or Swing (charts and
 * reports live in refact-report). Checked on the compiled classes' constant pools.
 */
final class CoreHasNoAwtTest {
    @Test
    void mainClasses_referenceNoDesktopPackage() throws IOException, URISyntaxException {
        Path classes = Path.of(Editor.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<Path> files;
        try (Stream<Path> s = Files.walk(classes)) {
            files = s.filter(p -> p.toString().endsWith(".class")).toList();
        }
        assertTrue(files.size() > 20, "found the main classes in " + classes + ": " + files.size());
        List<String> offenders = files.stream().filter(CoreHasNoAwtTest::referencesDesktop)
                .map(p -> classes.relativize(p).toString()).toList();
        assertEquals(List.of(), offenders, "classes referencing java.awt / javax.imageio / javax.swing");
    }

    private static boolean referencesDesktop(Path classFile) {
        try {
            String pool = new String(Files.readAllBytes(classFile), StandardCharsets.ISO_8859_1);
            return pool.contains("java/awt/") || pool.contains("javax/imageio/") || pool.contains("javax/swing/");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
