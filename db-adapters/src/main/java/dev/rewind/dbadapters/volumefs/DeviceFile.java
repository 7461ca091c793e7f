package dev.rewind.dbadapters.volumefs;

import static dev.rewind.dbadapters.volumefs.DeviceFileHeader.CONTENT_OFFSET;

import dev.rewind.capture.BlockDevice;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * The one file a mounted device holds, and every read and write of it. Content lives at
 * {@link DeviceFileHeader#CONTENT_OFFSET}; the header in block 0 is rewritten through the
 * device whenever the file's name or length changes, after the data it covers.
 *
 * <p>While no channel is open, the header is read (and checked) from the device on every
 * question, so a device rewound underneath a closed database is seen as it now is. While
 * channels are open, the header in memory is the truth. Every method holds this object's
 * monitor, except {@link #flush()}.
 */
final class DeviceFile {
    private final String mountName;
    private final BlockDevice device;
    private DeviceFileHeader header; // null: the device holds no file
    private int openChannels;

    /** Reads and checks the device's header at once, so a damaged device is refused at mount. */
    DeviceFile(String mountName, BlockDevice device) throws IOException {
        if (device.sizeBytes() <= CONTENT_OFFSET) {
            throw new IOException("device " + device.name() + " has " + device.sizeBytes() + " bytes; a file needs more than "
                    + CONTENT_OFFSET + " (the header block)");
        }
        this.mountName = mountName;
        this.device = device;
        this.header = DeviceFileHeader.readFrom(device).orElse(null);
    }

    BlockDevice device() {
        return device;
    }

    synchronized Optional<String> fileName() throws IOException {
        return Optional.ofNullable(current()).map(DeviceFileHeader::fileName);
    }

    synchronized boolean holds(String fileName) throws IOException {
        DeviceFileHeader h = current();
        return h != null && h.fileName().equals(fileName);
    }

    /** The length of {@code fileName}, or 0 when the device does not hold it. */
    synchronized long sizeOf(String fileName) throws IOException {
        return holds(fileName) ? header.lengthBytes() : 0;
    }

    synchronized boolean isOpen() {
        return openChannels > 0;
    }

    /** Creates an empty {@code fileName}; false if it exists; an IOException if the device holds another file. */
    synchronized boolean create(String fileName) throws IOException {
        DeviceFileHeader h = current();
        if (h != null) {
            if (h.fileName().equals(fileName)) {
                return false;
            }
            throw new IOException("cannot create " + describe(fileName) + ": the device already holds "
                    + h.fileName() + " and holds one file only");
        }
        writeHeader(new DeviceFileHeader(fileName, 0));
        return true;
    }

    /** Removes {@code fileName} if the device holds it: the header is erased and the content discarded. */
    synchronized void delete(String fileName) throws IOException {
        if (!holds(fileName)) {
            return;
        }
        if (isOpen()) {
            throw new IOException("cannot delete " + describe(fileName) + ": it is open");
        }
        long lengthBytes = header.lengthBytes();
        DeviceFileHeader.eraseFrom(device);
        header = null;
        if (lengthBytes > 0) {
            device.trim(CONTENT_OFFSET, lengthBytes, false);
        }
    }

    synchronized void rename(String fromName, String toName) throws IOException {
        if (!holds(fromName)) {
            throw new FileNotFoundException("cannot rename " + describe(fromName) + ": it does not exist");
        }
        writeHeader(header.withName(toName));
    }

    /** Opens {@code fileName}, creating it first if {@code writable} and it does not exist. */
    synchronized DeviceFileChannel open(String fileName, boolean writable, boolean syncWrites) throws IOException {
        if (!holds(fileName)) {
            if (!writable) {
                throw new FileNotFoundException(describe(fileName) + " does not exist");
            }
            create(fileName);
        }
        openChannels++;
        return new DeviceFileChannel(this, writable, syncWrites);
    }

    synchronized void channelClosed() {
        openChannels--;
    }

    // ---- I/O of an open channel: the header is in memory and not null ----

    synchronized long size() {
        return header.lengthBytes();
    }

    /** Reads from {@code positionBytes} up to the end of the file; -1 at or past the end. */
    synchronized int read(long positionBytes, ByteBuffer dst) throws IOException {
        long lengthBytes = header.lengthBytes();
        if (positionBytes >= lengthBytes) {
            return -1;
        }
        int n = (int) Math.min(dst.remaining(), lengthBytes - positionBytes);
        device.read(CONTENT_OFFSET + positionBytes, dst.slice(dst.position(), n));
        dst.position(dst.position() + n);
        return n;
    }

    /**
     * Writes all of {@code src} at {@code positionBytes}. A gap between the old end and
     * {@code positionBytes} is zeroed first; the header follows the data when the file grows.
     */
    synchronized int write(long positionBytes, ByteBuffer src) throws IOException {
        int n = src.remaining();
        long endBytes = positionBytes + n;
        long capacityBytes = DeviceFileHeader.capacityBytes(device);
        if (endBytes > capacityBytes) {
            throw new IOException("device full: " + describe(header.fileName()) + " can grow to " + capacityBytes
                    + " bytes; a write of " + n + " bytes at " + positionBytes + " would end at " + endBytes);
        }
        long lengthBytes = header.lengthBytes();
        if (positionBytes > lengthBytes) {
            device.writeZeroes(CONTENT_OFFSET + lengthBytes, positionBytes - lengthBytes, false);
        }
        device.write(CONTENT_OFFSET + positionBytes, src, false);
        if (endBytes > lengthBytes) {
            writeHeader(header.withLength(endBytes));
        }
        return n;
    }

    /** Shrinks the file to {@code lengthBytes}; a larger length changes nothing. */
    synchronized void truncate(long lengthBytes) throws IOException {
        if (lengthBytes < header.lengthBytes()) {
            writeHeader(header.withLength(lengthBytes));
        }
    }

    /** Makes every write so far durable. */
    void flush() throws IOException {
        device.flush();
    }

    // ---- header ----

    private DeviceFileHeader current() throws IOException {
        if (openChannels == 0) {
            header = DeviceFileHeader.readFrom(device).orElse(null);
        }
        return header;
    }

    private void writeHeader(DeviceFileHeader next) throws IOException {
        next.writeTo(device);
        header = next;
    }

    private String describe(String fileName) {
        return VolumeFileSystem.pathOf(mountName, fileName) + " (device " + device.name() + ")";
    }
}
