package dev.rewind.capture.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;

/**
 * An export served read-only whatever it is: for a client who may read the volumes but not
 * write them (another user in the socket's group). The flags tell the client so, the decoder
 * answers its writes with {@code EPERM}, and the writing methods here refuse as a last guard.
 */
record ReadOnlyExport(NbdExport export) implements NbdExport {
    /** The exports of {@code exports}, each read-only. */
    static NbdExports all(NbdExports exports) {
        return new NbdExports() {
            @Override
            public Optional<NbdExport> open(String exportName) throws IOException {
                return exports.open(exportName).map(e -> e.isReadOnly() ? e : new ReadOnlyExport(e));
            }

            @Override
            public List<String> names() {
                return exports.names();
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
        return export.description();
    }

    private IOException refused() {
        return new IOException("export " + export.name() + " is read-only for this client");
    }
}
