/**
 * Bisecting a set's history to the last write at which a check holds (seed 004, claims 16-17:
 * from an estimated transaction, then write by write to the exact one). {@link
 * dev.rewind.dbadapters.bisect.Bisect} is the search alone, over seqs and transaction
 * boundaries, with no I/O: what a probe does at a seq (open a sandbox there, start the database,
 * run the check) is the caller's {@link dev.rewind.dbadapters.bisect.Probe}.
 */
package dev.rewind.dbadapters.bisect;
