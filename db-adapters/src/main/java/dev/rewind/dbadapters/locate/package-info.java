/**
 * From a database position to a seq: the set's current {@link dev.rewind.dbadapters.locate.Lineage}
 * after restores in place, a file's extents on its device ({@link dev.rewind.dbadapters.locate.FileExtents}),
 * the write that put given bytes on a member ({@link dev.rewind.dbadapters.locate.WriteLocator}) and,
 * built on them and on the sampled positions, {@link dev.rewind.dbadapters.locate.LogTargets}.
 * Imports only the adapter API, never an engine's package.
 */
package dev.rewind.dbadapters.locate;
