/**
 * Native runtime support: {@link dev.refact.clip.torch.TorchRuntime} loads libtorch safely once per
 * JVM; {@link dev.refact.clip.torch.Tensors} is the only place that converts between Java arrays and
 * tensors. Public for the other refact modules; not part of the user-facing API.
 */
package dev.refact.clip.torch;
