/**
 * The ReFACT editor. Start at {@code Editor}: requests in, {@code EditResult} out; see
 * {@code Hyperparameters} for every setting of the method.
 */
package dev.refact.core;
