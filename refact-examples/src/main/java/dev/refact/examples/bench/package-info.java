/** Benchmark mains (results in docs/benchmarks.md); not part of the API. */
package dev.refact.examples.bench;
