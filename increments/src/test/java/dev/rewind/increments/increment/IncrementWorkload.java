package dev.rewind.increments.increment;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;

/**
 * A seeded random increment for the tests, and its reference model: extents of random members
 * and sizes, apart or adjacent, zeros or data mixing compressible runs (text, repeats, zeros)
 * and random bytes. Knows the bytes every range of it must read as.
 */
final class IncrementWorkload {
    static final UUID SET = UUID.fromString("1c4e0000-0000-4000-8000-00000000000c");
    static final int MEMBERS = 3;

    /** One extent as added, with its bytes (null for zeros). */
    record Added(int member, long offsetBytes, long lengthBytes, byte[] data) {
        long endBytes() {
            return offsetBytes + lengthBytes;
        }
    }

    final List<Added> added = new ArrayList<>();

    /**
     * zstd-jni unpacks its native library into java.io.tmpdir, which the build points at
     * target/tmp and does not create: the test classes that use zstd create it first.
     */
    static void ensureTempDirExists() throws IOException {
        Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir")));
    }

    /** Random extents, up to {@code maxExtents}, each 1 byte..{@code maxExtentBytes}. */
    static IncrementWorkload random(Random r, int maxExtents, int maxExtentBytes) {
        IncrementWorkload w = new IncrementWorkload();
        int n = 1 + r.nextInt(maxExtents);
        int member = r.nextInt(MEMBERS);
        long offset = r.nextInt(1 << 20);
        for (int i = 0; i < n; i++) {
            int length = switch (r.nextInt(4)) {
                case 0 -> 1 + r.nextInt(16);
                case 1 -> 1 + r.nextInt(64 << 10);
                case 2 -> 1 + r.nextInt(maxExtentBytes);
                default -> 4096 * (1 + r.nextInt(64));
            };
            boolean zeros = r.nextInt(4) == 0;
            w.added.add(new Added(member, offset, length, zeros ? null : data(r, length)));
            offset += length;
            int gap = r.nextInt(3);
            if (gap == 1) {
                offset += 1 + r.nextInt(1 << 16);
            } else if (gap == 2 && member + 1 < MEMBERS && r.nextBoolean()) {
                member++;
                offset = r.nextInt(1 << 16);
            }
        }
        return w;
    }

    /** Bytes that mix compressible runs (text, repeats, zeros) and random ones. */
    static byte[] data(Random r, int length) {
        byte[] b = new byte[length];
        int at = 0;
        byte[] text = "INSERT INTO account VALUES (42, 'alice', 1000.00); -- ".getBytes(StandardCharsets.US_ASCII);
        while (at < length) {
            int run = Math.min(length - at, 1 + r.nextInt(256 << 10));
            switch (r.nextInt(4)) {
                case 0 -> {
                    byte[] random = new byte[run];
                    r.nextBytes(random);
                    System.arraycopy(random, 0, b, at, run);
                }
                case 1 -> {
                    for (int i = 0; i < run; i++) {
                        b[at + i] = text[i % text.length];
                    }
                }
                case 2 -> {
                    byte v = (byte) r.nextInt();
                    for (int i = 0; i < run; i++) {
                        b[at + i] = (byte) (v + (i >> 9));
                    }
                }
                default -> {
                    // zeros inside a data extent
                }
            }
            at += run;
        }
        return b;
    }

    IncrementHeader header(IncrementCodec codec) {
        return new IncrementHeader(SET, 7, IncrementDirection.FORWARD, 100, 199, MEMBERS, codec);
    }

    /** Writes the workload as an increment at {@code file}. */
    IncrementFile.IncrementSummary write(Path file, IncrementCodec codec) throws IOException {
        try (IncrementFile.Writer w = IncrementFile.create(file, header(codec))) {
            for (Added a : added) {
                if (a.data() == null) {
                    w.addZeros(a.member(), a.offsetBytes(), a.lengthBytes());
                } else {
                    w.add(a.member(), a.offsetBytes(), ByteBuffer.wrap(a.data()));
                }
            }
            return w.finish();
        }
    }

    /** The extents the file must list: the added ones, adjacent ones of the same kind coalesced. */
    List<IncrementExtent> coalescedExtents() {
        List<IncrementExtent> out = new ArrayList<>();
        for (Added a : added) {
            boolean zeros = a.data() == null;
            if (!out.isEmpty()) {
                IncrementExtent last = out.get(out.size() - 1);
                if (last.member() == a.member() && last.endBytes() == a.offsetBytes() && last.zeros() == zeros) {
                    out.set(out.size() - 1, new IncrementExtent(last.member(), last.offsetBytes(), last.lengthBytes() + a.lengthBytes(), zeros));
                    continue;
                }
            }
            out.add(new IncrementExtent(a.member(), a.offsetBytes(), a.lengthBytes(), zeros));
        }
        return out;
    }

    long rawBytes() {
        return added.stream().filter(a -> a.data() != null).mapToLong(Added::lengthBytes).sum();
    }

    /** What member bytes [offset, offset + length) must read as; the range must be covered. */
    byte[] expected(int member, long offsetBytes, int length) {
        byte[] out = new byte[length];
        long end = offsetBytes + length;
        for (Added a : added) {
            if (a.member() != member || a.endBytes() <= offsetBytes || a.offsetBytes() >= end) {
                continue;
            }
            long from = Math.max(a.offsetBytes(), offsetBytes);
            long to = Math.min(a.endBytes(), end);
            if (a.data() != null) {
                System.arraycopy(a.data(), (int) (from - a.offsetBytes()), out, (int) (from - offsetBytes), (int) (to - from));
            }
        }
        return out;
    }

    /** The end of the run of back-to-back extents (any kind) of the same member that starts with extent {@code i}. */
    long runEnd(int i) {
        Added a = added.get(i);
        long end = a.endBytes();
        for (int j = i + 1; j < added.size(); j++) {
            Added b = added.get(j);
            if (b.member() != a.member() || b.offsetBytes() != end) {
                break;
            }
            end = b.endBytes();
        }
        return end;
    }
}
