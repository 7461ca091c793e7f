package dev.rewind.testfixtures.model;

import static org.junit.jupiter.api.Assertions.fail;

import dev.rewind.capture.BlockDevice;
import dev.rewind.capture.CapturedSet;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The reference model of a set for tests: the bytes of every member, as plain arrays cut
 * into 4 KiB pages. Immutable: {@link #write} and {@link #zero} return a new image that
 * shares every page they did not touch, so a test can keep the image at every seq it
 * knows without copying whole members.
 */
public final class ImageModel {
    public static final int PAGE = 4096;
    private static final byte[] ZERO_PAGE = new byte[PAGE];

    private final long[] sizes;
    /** [member][page]; a page array is never changed once it is in an image. */
    private final byte[][][] pages;

    private ImageModel(long[] sizes, byte[][][] pages) {
        this.sizes = sizes;
        this.pages = pages;
    }

    /** Fresh members: all zeros. */
    public static ImageModel zeros(long... sizes) {
        byte[][][] pages = new byte[sizes.length][][];
        for (int m = 0; m < sizes.length; m++) {
            pages[m] = new byte[(int) ((sizes[m] + PAGE - 1) / PAGE)][];
            Arrays.fill(pages[m], ZERO_PAGE);
        }
        return new ImageModel(sizes.clone(), pages);
    }

    public int memberCount() {
        return sizes.length;
    }

    public long size(int member) {
        return sizes[member];
    }

    /** WRITE: the bytes of {@code data} at {@code offset}. */
    public ImageModel write(int member, long offset, byte[] data) {
        checkRange(member, offset, data.length);
        byte[][] mp = pages[member].clone();
        long pos = offset;
        int from = 0;
        while (from < data.length) {
            int p = (int) (pos / PAGE);
            int within = (int) (pos % PAGE);
            int n = Math.min(PAGE - within, data.length - from);
            byte[] page = mp[p].clone();
            System.arraycopy(data, from, page, within, n);
            mp[p] = page;
            pos += n;
            from += n;
        }
        return with(member, mp);
    }

    /** TRIM and WRITE_ZEROES: the range reads as zeros. */
    public ImageModel zero(int member, long offset, long length) {
        checkRange(member, offset, length);
        byte[][] mp = pages[member].clone();
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            int p = (int) (pos / PAGE);
            int within = (int) (pos % PAGE);
            int n = (int) Math.min(PAGE - within, end - pos);
            if (n == PAGE) {
                mp[p] = ZERO_PAGE;
            } else {
                byte[] page = mp[p].clone();
                Arrays.fill(page, within, within + n, (byte) 0);
                mp[p] = page;
            }
            pos += n;
        }
        return with(member, mp);
    }

    private ImageModel with(int member, byte[][] memberPages) {
        byte[][][] all = pages.clone();
        all[member] = memberPages;
        return new ImageModel(sizes, all);
    }

    private void checkRange(int member, long offset, long length) {
        if (offset < 0 || length < 0 || offset + length > sizes[member]) {
            throw new IllegalArgumentException("model: " + offset + "+" + length + " outside member " + member + " of " + sizes[member]);
        }
    }

    /** The whole member as one array. */
    public byte[] bytes(int member) {
        byte[] out = new byte[(int) sizes[member]];
        byte[][] mp = pages[member];
        for (int p = 0; p < mp.length; p++) {
            int start = p * PAGE;
            System.arraycopy(mp[p], 0, out, start, Math.min(PAGE, out.length - start));
        }
        return out;
    }

    // ---- comparing the real thing with the model ----

    /** Reads a whole member through its device. */
    public static byte[] readDevice(BlockDevice d) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate((int) d.sizeBytes());
        d.read(0, buf);
        return buf.array();
    }

    /** Fails unless every member of {@code set}, read through its device, equals this image. */
    public void assertPrimaryEquals(CapturedSet set, String context) throws IOException {
        for (int m = 0; m < sizes.length; m++) {
            BlockDevice d = set.devices().get(m);
            assertSameBytes(context + ", primary of " + d.name(), bytes(m), readDevice(d));
        }
    }

    /** Fails unless the clone files {@code dir/<member>.img} equal this image. */
    public void assertCloneEquals(CapturedSet set, Path dir, String context) throws IOException {
        for (int m = 0; m < sizes.length; m++) {
            String name = set.devices().get(m).name();
            assertSameBytes(context + ", clone of " + name, bytes(m), Files.readAllBytes(dir.resolve(name + ".img")));
        }
    }

    /** Like assertArrayEquals, but says where the first difference is and how many bytes differ. */
    public static void assertSameBytes(String context, byte[] expected, byte[] actual) {
        if (Arrays.equals(expected, actual)) {
            return;
        }
        if (expected.length != actual.length) {
            fail(context + ": length " + actual.length + ", expected " + expected.length);
        }
        int first = -1;
        int last = -1;
        int count = 0;
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] != actual[i]) {
                if (first < 0) {
                    first = i;
                }
                last = i;
                count++;
            }
        }
        fail(context + ": " + count + " bytes differ in [" + first + ", " + (last + 1) + "); first at offset " + first
                + " expected " + (expected[first] & 0xff) + " found " + (actual[first] & 0xff));
    }
}
