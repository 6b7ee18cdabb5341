/** Tests of the {@code refact} command line, run through {@code RefactCommand.execute}. */
package dev.refact.cli;
