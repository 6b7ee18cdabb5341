/** Tests of the editor: the closed form against the golden, the v* search, undo, edit files, determinism. */
package dev.refact.core;
