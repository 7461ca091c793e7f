/**
 * The set's attached database as the commands and the daemon use it: looking the attachment
 * up (one line saying how to attach one when there is none), opening its adapter, taking a
 * consistent bookmark, reading its log from the server or, when it does not answer, from its
 * files ({@link dev.rewind.cli.db.DatabaseLog}), and the daemon's position samplers. Depends on the data dir and the
 * db-adapters module, never on the commands or the daemon.
 */
package dev.rewind.cli.db;
