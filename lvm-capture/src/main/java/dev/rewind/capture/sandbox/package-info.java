/**
 * Sandboxes: a set opened writable at a past seq without copying a volume. Reads come from the
 * past through the set's point-in-time map; writes go to an overlay of the sandbox's own and
 * never reach the journal or the primary. Each sandbox is a directory under the data dir's
 * {@code sandboxes/} and a row of the catalog's {@code sandbox} table; its seq is pinned while
 * it exists.
 */
package dev.rewind.capture.sandbox;
