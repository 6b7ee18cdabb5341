/**
 * The {@code refact} command line. Entry type: {@link dev.refact.cli.RefactCommand}; one class per
 * sub-command ({@code tokenize}, {@code encode}, {@code edit}, {@code stats}, {@code apply},
 * {@code eval-text}, {@code generate}, {@code compare}, {@code eval}, {@code sweep},
 * {@code classify}).
 */
package dev.refact.cli;
