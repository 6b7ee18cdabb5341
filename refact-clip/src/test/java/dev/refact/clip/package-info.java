/** Tests of the CLIP text encoder: goldens, hooks, loading errors, the random generator. */
package dev.refact.clip;
