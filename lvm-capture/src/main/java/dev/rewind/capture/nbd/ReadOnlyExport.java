package dev.rewind.capture.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;

/**
 * An export served read-only whatever it is: for a client who may read the volumes but not
 * write them (another user in the socket's group, a TCP client without a checked certificate).
 * The flags tell the client so, the decoder answers its writes with {@code EPERM}, the
 * description says {@code why}, and the writing methods here refuse as a last guard.
 */
record ReadOnlyExport(NbdExport export, String why) implements NbdExport {
    /** The exports of {@code exports}, each read-only, for the reason {@code why}. */
    static NbdExports all(NbdExports exports, String why) {
        return new NbdExports() {
            @Override
            public Optional<NbdExport> open(String exportName) throws IOException {
                return exports.open(exportName).map(e -> e.isReadOnly() ? e : new ReadOnlyExport(e, why));
            }

            @Override
            public List<String> names() {
                return exports.names();
            }

            @Override
            public List<Listing> list() {
                return exports.list();
            }
        };
    }

    @Override
    public String name() {
        return export.name();
    }

    @Override
    public String setName() {
        return export.setName();
    }

    @Override
    public boolean isPast() {
        return export.isPast();
    }

    @Override
    public long sizeBytes() {
        return export.sizeBytes();
    }

    @Override
    public boolean isReadOnly() {
        return true;
    }

    @Override
    public void read(long offsetBytes, ByteBuffer dst) throws IOException {
        export.read(offsetBytes, dst);
    }

    @Override
    public void write(long offsetBytes, ByteBuffer src, boolean fua) throws IOException {
        throw refused();
    }

    @Override
    public void trim(long offsetBytes, long lengthBytes, boolean fua) throws IOException {
        throw refused();
    }

    @Override
    public void writeZeroes(long offsetBytes, long lengthBytes, boolean fua) throws IOException {
        throw refused();
    }

    @Override
    public void flush() {
        // nothing written, nothing to flush
    }

    @Override
    public String description() {
        return export.description() + "; read-only for this client: " + why;
    }

    private IOException refused() {
        return new IOException("export " + export.name() + " is read-only for this client: " + why);
    }
}
