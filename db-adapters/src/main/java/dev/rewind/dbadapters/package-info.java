/**
 * Databases on protected sets: {@link dev.rewind.dbadapters.Adapters} opens the adapter of an
 * attached database by its engine (the only class that names the engine packages).
 */
package dev.rewind.dbadapters;
