/** Tests of the native runtime and the tensor conversion helpers. */
package dev.refact.clip.torch;
