package dev.rewind.capture.nbd;

import dev.rewind.increments.restore.SetHistory;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A set member as it was at one seq, read-only: reads play the journal back over the range
 * asked for, without copying the volume. The decoder refuses writes before they get here.
 */
final class PointInTimeExport implements NbdExport {
    private final String name;
    private final SetHistory.PastView past;
    private final String setName;
    private final int memberIndex;
    private final String memberName;
    private final long sizeBytes;

    PointInTimeExport(String name, SetHistory.PastView past, String setName, int memberIndex, String memberName, long sizeBytes) {
        this.name = name;
        this.past = past;
        this.setName = setName;
        this.memberIndex = memberIndex;
        this.memberName = memberName;
        this.sizeBytes = sizeBytes;
    }

    long seq() {
        return past.seq();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String setName() {
        return setName;
    }

    @Override
    public boolean isPast() {
        return true;
    }

    @Override
    public long sizeBytes() {
        return sizeBytes;
    }

    @Override
    public boolean isReadOnly() {
        return true;
    }

    @Override
    public void read(long offsetBytes, ByteBuffer dst) throws IOException {
        past.read(memberIndex, offsetBytes, dst);
    }

    @Override
    public void write(long offsetBytes, ByteBuffer src, boolean fua) throws IOException {
        throw readOnly();
    }

    @Override
    public void trim(long offsetBytes, long lengthBytes, boolean fua) throws IOException {
        throw readOnly();
    }

    @Override
    public void writeZeroes(long offsetBytes, long lengthBytes, boolean fua) throws IOException {
        throw readOnly();
    }

    @Override
    public void flush() {
        // nothing is ever written
    }

    private IOException readOnly() {
        return new IOException(name + " is a read-only view of seq " + past.seq());
    }

    @Override
    public String description() {
        return "member " + memberName + " of set " + setName + " as it was at seq " + past.seq() + ", read-only";
    }
}
