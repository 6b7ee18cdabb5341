/** Runnable examples: the demo (generated tiny model or a real checkpoint) and its generated tokenizer. */
package dev.refact.examples;
