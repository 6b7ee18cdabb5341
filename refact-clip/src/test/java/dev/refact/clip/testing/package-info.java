/**
 * Test support shared by every module through refact-clip's test-jar: {@link
 * dev.refact.clip.testing.SharedData} finds {@code ../shared/data}; {@link
 * dev.refact.clip.testing.TensorAssertions} compares tensors with stated tolerances.
 */
package dev.refact.clip.testing;
