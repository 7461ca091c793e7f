package dev.rewind.capture.sandbox;

import dev.rewind.capture.CapturedSet;
import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.SandboxRecord;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Every sandbox of one data dir: created, listed, opened for serving and dropped. A sandbox
 * is its directory {@code <root>/<set>/<name>/} and its catalog row; {@link #open(Path, Catalog)}
 * makes the two agree after a crash, so a sandbox exists whole or not at all.
 */
public final class Sandboxes implements AutoCloseable {

    private Sandboxes() {
    }

    /** The sandboxes under {@code root}; removes what a crash left half created or half dropped. */
    public static Sandboxes open(Path root, Catalog catalog) throws IOException {
        return new Sandboxes();
    }

    /**
     * Creates sandbox {@code name} of {@code set} at {@code seq} ({@code point} is the point as
     * the user wrote it). Durable and whole when it returns. Refuses a malformed name, a name in
     * use, a seq the set cannot bring back; nothing is left behind then.
     */
    public SandboxRecord create(CapturedSet set, String name, long seq, String point) throws IOException {
        throw new UnsupportedOperationException();
    }

    /** The sandboxes of one set, or of all (null). */
    public List<SandboxRecord> list(String setNameOrNull) {
        return List.of();
    }

    /** The sandbox, or a {@link dev.rewind.volumeset.RewindException} saying there is none. */
    public SandboxRecord find(String setName, String name) {
        throw new UnsupportedOperationException();
    }

    /** The sandbox opened for reading and writing, shared by all callers; close the handle when done. */
    public Sandbox open(CapturedSet set, String name) throws IOException {
        throw new UnsupportedOperationException();
    }

    /** The bytes the sandbox's writes hold, over all members. */
    public long overlayBytes(SandboxRecord sandbox) throws IOException {
        throw new UnsupportedOperationException();
    }

    /** How many handles from {@link #open(CapturedSet, String)} are still open on the sandbox. */
    public int openHandles(String setName, String name) {
        throw new UnsupportedOperationException();
    }

    /**
     * Drops the sandbox: its row and its overlay are gone when this returns. Handles still open
     * fail every later request with an error that says it was dropped.
     */
    public void drop(String setName, String name) throws IOException {
        throw new UnsupportedOperationException();
    }

    @Override
    public void close() throws IOException {
    }
}
