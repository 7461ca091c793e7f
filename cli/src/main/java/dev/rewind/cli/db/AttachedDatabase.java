package dev.rewind.cli.db;

import dev.rewind.dbadapters.Adapters;
import dev.rewind.dbadapters.api.DatabaseAdapter;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.DatabaseAttachment;

/**
 * The one way the commands find a set's attached database and open its adapter: a set with
 * none is refused with the command that attaches one.
 */
public final class AttachedDatabase {
    private AttachedDatabase() {
    }

    /** The set's attachment, or a RewindException saying how to attach one. */
    public static DatabaseAttachment of(Catalog catalog, String setName) {
        return catalog.databases().attachment(setName).orElseThrow(() -> new RewindException("set " + setName
                + " has no database attached; attach one with: rewind db attach " + setName + " --jdbc URL"));
    }

    /** The adapter of an attachment, over its own small pool (close it when done). */
    public static DatabaseAdapter open(DatabaseAttachment attachment) {
        return Adapters.open(attachment);
    }
}
