/**
 * The set's attached database as the commands and the daemon use it: looking the attachment
 * up (one line saying how to attach one when there is none), opening its adapter, taking a
 * consistent bookmark, and the daemon's position samplers. Depends on the data dir and the
 * db-adapters module, never on the commands or the daemon.
 */
package dev.rewind.cli.db;
