/** Tests of checkpoint I/O: fixtures, round trips, conversions and every kind of malformed file. */
package dev.refact.clip.io;
