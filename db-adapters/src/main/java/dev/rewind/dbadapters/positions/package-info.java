/**
 * Sampling a database's log position against its set's seq while the daemon runs
 * ({@link dev.rewind.dbadapters.positions.PositionSampler}); the samples bracket where a
 * position lies in the set's history.
 */
package dev.rewind.dbadapters.positions;
