/** Tests of the {@code refact} command line, run in-process through {@code RefactCommand.execute}. */
package dev.refact.cli;
