/**
 * The H2 adapter: consistent bookmarks through {@code CHECKPOINT SYNC}, validation queries and
 * waiting for the database; H2 has no log positions to restore by.
 */
package dev.rewind.dbadapters.h2;
