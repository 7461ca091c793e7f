package dev.rewind.capture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.testfixtures.model.ImageModel;
import dev.rewind.testfixtures.set.TestSet;
import dev.rewind.volumeset.CorruptDataException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Invariant 5 (nothing wrong is ever served) and the torn-tail half of Invariant 1, on the
 * journal's files: corruption inside sealed segments is refused with its file and offset
 * and changes nothing; a torn or garbage tail of the newest segment is cut off at open and
 * every earlier seq stays restorable.
 *
 * <p>The tests edit segment files at the byte level, following the layout documented in
 * {@code JournalSegment}: a 64-byte segment header, then records of a 48-byte header
 * (type at +4, seq at +8, offset at +24, length at +32, payload length at +36, payload
 * CRC32C at +40, header CRC32C at +44) followed by the payload.
 */
class JournalCorruptionTest {
    private static final int SEGMENT_HEADER = 64;
    private static final int RECORD_HEADER = 48;
    private static final int TYPE_WRITE = 1;
    private static final int RECORD_MAGIC = 0x52574A31;
    private static final CaptureOptions SMALL_SEGMENTS = CaptureOptions.DEFAULT.withJournalSegmentBytes(1 << 20);

    @TempDir
    Path tmp;

    /** The set after {@link #fill}, with the model image at each seq. */
    private final TreeMap<Long, ImageModel> model = new TreeMap<>();
    private Path journalDir;
    private Path drlFile;
    private long[] sizes;

    /** A record found by walking a segment file. */
    record Rec(long position, int type, long seq, int payloadBytes) {
    }

    /**
     * Creates a set of two members and writes ~4 MB in writes of up to 100 KB, so the journal
     * (1 MiB segments) has several sealed segments. Seq 1 (m0) and seq 3 write the same
     * range, so seq 1 is needed only to restore to seq 1 or 2; seq 2 (m1) and seq 4 write
     * another, so restoring to seq 2 reads seq 2 before it reaches seq 1. The last seq is a
     * WRITE to m1.
     */
    private TestSet fill(long seed) throws IOException {
        TestSet t = TestSet.create(tmp, "s", 1 << 20, 512 << 10);
        Random r = new Random(seed);
        try (CapturedSet set = t.open(SMALL_SEGMENTS)) {
            journalDir = set.record().secondaryDir().resolve("journal");
            drlFile = set.record().secondaryDir().resolve("drl");
            sizes = set.devices().stream().mapToLong(BlockDevice::sizeBytes).toArray();
            ImageModel image = ImageModel.zeros(sizes);
            model.put(0L, image);
            image = write(set, image, r, 0, 1000, 100_000);
            image = write(set, image, r, 1, 200_000, 60_000);
            image = write(set, image, r, 0, 1000, 100_000);
            image = write(set, image, r, 1, 200_000, 60_000);
            for (int i = 0; i < 60; i++) {
                int m = r.nextInt(2);
                int len = i % 7 == 3 ? 1 + r.nextInt(5000) : 30_000 + r.nextInt(70_000);
                long off = (long) (r.nextDouble() * (sizes[m] - len + 1));
                if (i % 9 == 4) {
                    set.devices().get(m).trim(off, len, false);
                    image = image.zero(m, off, len);
                    model.put(set.lastSeq(), image);
                } else {
                    image = write(set, image, r, m, off, len);
                }
                if (i % 5 == 0) {
                    set.flush();
                }
            }
            write(set, image, r, 1, 777, 50_000);
        }
        return t;
    }

    private ImageModel write(CapturedSet set, ImageModel image, Random r, int member, long offset, int length) throws IOException {
        byte[] data = new byte[length];
        r.nextBytes(data);
        long seq = set.devices().get(member).write(offset, ByteBuffer.wrap(data), false);
        ImageModel next = image.write(member, offset, data);
        assertEquals(model.lastKey() + 1, seq);
        model.put(seq, next);
        return next;
    }

    private List<Path> segments() throws IOException {
        try (Stream<Path> s = Files.list(journalDir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".rwj")).sorted().toList();
        }
    }

    static List<Rec> records(Path segment) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(segment)).order(ByteOrder.BIG_ENDIAN);
        List<Rec> out = new ArrayList<>();
        long pos = SEGMENT_HEADER;
        while (pos + RECORD_HEADER <= b.capacity() && b.getInt((int) pos) == RECORD_MAGIC) {
            int payload = b.getInt((int) pos + 36);
            out.add(new Rec(pos, b.get((int) pos + 4), b.getLong((int) pos + 8), payload));
            pos += RECORD_HEADER + payload;
        }
        return out;
    }

    static void flipByte(Path file, long offset) throws IOException {
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            assertEquals(1, c.read(one, offset));
            one.put(0, (byte) (one.get(0) ^ 0x5A)).clear();
            c.write(one, offset);
        }
    }

    static byte[][] readPrimaries(CapturedSet set) throws IOException {
        byte[][] out = new byte[set.devices().size()][];
        for (int m = 0; m < out.length; m++) {
            out[m] = ImageModel.readDevice(set.devices().get(m));
        }
        return out;
    }

    static void assertNamesPlace(CorruptDataException e, Path file, long offset) throws IOException {
        assertEquals(file.toRealPath(), e.file().toRealPath(), "exception names the segment: " + e.getMessage());
        assertEquals(offset, e.offsetBytes(), "exception names the offset: " + e.getMessage());
        assertTrue(e.getMessage().contains(file.getFileName().toString()) && e.getMessage().contains("offset " + offset),
                "message names file and offset: " + e.getMessage());
    }

    @Test
    void corruptPayloadInSealedSegmentIsRefusedBeforeThePrimaryIsTouched() throws IOException {
        try (TestSet t = fill(1)) {
            List<Path> segs = segments();
            assertTrue(segs.size() >= 3, "the journal rolled into several segments: " + segs);
            Path first = segs.get(0);
            Rec seq1 = records(first).get(0);
            assertEquals(1, seq1.seq());
            assertEquals(TYPE_WRITE, seq1.type());
            long payloadOffset = seq1.position() + RECORD_HEADER;
            flipByte(first, payloadOffset + 12_345);

            try (CapturedSet set = t.open(SMALL_SEGMENTS)) {
                long head = set.lastSeq();
                byte[][] before = readPrimaries(set);
                model.get(head).assertPrimaryEquals(set, "reopened after the corruption");

                // restoring to 2 finds seq 2's good data for m1 first, then needs seq 1 for m0
                for (long target : new long[] {2, 1}) {
                    CorruptDataException e = assertThrows(CorruptDataException.class,
                            () -> set.restoreInPlace(target, ProgressListener.NONE), "restore to " + target);
                    assertNamesPlace(e, first, payloadOffset);
                    byte[][] after = readPrimaries(set);
                    for (int m = 0; m < before.length; m++) {
                        assertArrayEquals(before[m], after[m], "a refused restore to " + target + " leaves member " + m
                                + " of the primary unchanged");
                    }
                    assertEquals(head, set.lastSeq(), "a refused restore journals nothing");
                }

                Path cloneDir = tmp.resolve("clone");
                CorruptDataException ce = assertThrows(CorruptDataException.class, () -> set.cloneTo(2, cloneDir, ProgressListener.NONE));
                assertNamesPlace(ce, first, payloadOffset);
                try (Stream<Path> files = Files.list(cloneDir)) {
                    assertEquals(List.of(), files.toList(), "a refused clone leaves no files behind");
                }
                CorruptDataException ve = assertThrows(CorruptDataException.class, set::verify);
                assertNamesPlace(ve, first, payloadOffset);

                // the refusal is precise: seq 3 shadows seq 1, so restoring to 3 never reads it
                set.restoreInPlace(3, ProgressListener.NONE);
                model.get(3L).assertPrimaryEquals(set, "restore to seq 3, which does not need the corrupt record");
            }
        }
    }

    @ParameterizedTest(name = "byte {0} of the header")
    @ValueSource(ints = {0, 4, 9, 26, 33, 38, 44})
    void corruptRecordHeaderInSealedSegmentIsFoundByVerifyAndFailsOpenWhenTheSegmentIsScanned(int byteInHeader) throws IOException {
        try (TestSet t = fill(2)) {
            Path first = segments().get(0);
            Rec seq2 = records(first).get(1);
            assertEquals(2, seq2.seq());
            flipByte(first, seq2.position() + byteInHeader);

            // a sealed segment with a valid index file is not scanned at open; verify reads it whole
            try (CapturedSet set = t.open(SMALL_SEGMENTS)) {
                CorruptDataException v = assertThrows(CorruptDataException.class, set::verify);
                assertNamesPlace(v, first, seq2.position());
            }
            Files.delete(first.resolveSibling(first.getFileName() + ".idx")); // now open must scan the segment

            CorruptDataException e = assertThrows(CorruptDataException.class, () -> t.open(SMALL_SEGMENTS).close());
            assertNamesPlace(e, first, seq2.position());
            // a failed open releases the set: trying again gives the same answer, not "in use"
            CorruptDataException again = assertThrows(CorruptDataException.class, () -> t.open(SMALL_SEGMENTS).close());
            assertNamesPlace(again, first, seq2.position());
        }
    }

    @Test
    void corruptHeaderOfSealedSegmentFailsOpen() throws IOException {
        try (TestSet t = fill(3)) {
            Path second = segments().get(1);
            flipByte(second, 40);
            CorruptDataException e = assertThrows(CorruptDataException.class, () -> t.open(SMALL_SEGMENTS).close());
            assertEquals(second.toRealPath(), e.file().toRealPath(), e.getMessage());
        }
    }

    @Test
    void tornTailIsTruncatedAtOpenAndEveryEarlierSeqIsIntact() throws IOException {
        try (TestSet t = fill(4)) {
            long torn = model.lastKey();
            List<Path> segs = segments();
            Path newest = segs.get(segs.size() - 1);
            List<Rec> recs = records(newest);
            Rec last = recs.stream().filter(x -> x.type() == TYPE_WRITE).reduce((a, b) -> b).orElseThrow();
            assertEquals(torn, last.seq(), "the last WRITE is the newest seq");
            // As after a crash mid-append: the region was marked dirty and the primary written,
            // but only half of the journal record reached the disk.
            try (DirtyRegionLog drl = DirtyRegionLog.open(drlFile, Sets.DEFAULT_REGION_SIZE_BYTES, sizes)) {
                drl.markDirty(1, 777, 777 + 50_000, torn);
            }
            long cut = last.position() + RECORD_HEADER + last.payloadBytes() / 2;
            try (FileChannel c = FileChannel.open(newest, StandardOpenOption.WRITE)) {
                c.truncate(cut);
            }

            try (CapturedSet set = t.open(SMALL_SEGMENTS)) {
                String c = "after tearing seq " + torn + ": " + set.recovery();
                assertEquals(cut - last.position(), set.recovery().truncatedJournalBytes(), c);
                assertTrue(set.recovery().dirtyRegions() > 0, c);
                assertEquals(torn - 1, set.lastSeq(), c);
                assertEquals(torn - 1, set.flushedSeq(), c);
                assertEquals(torn - 1, set.verify(), c);
                model.get(torn - 1).assertPrimaryEquals(set, c + ", primary");
                for (long s = 0; s < torn; s++) {
                    Path dir = tmp.resolve("clone-" + s);
                    set.cloneTo(s, dir, ProgressListener.NONE);
                    model.get(s).assertCloneEquals(set, dir, c + ", clone at seq " + s);
                    CaptureModelTest.deleteTree(dir);
                }
                byte[] data = new byte[3000];
                new Random(5).nextBytes(data);
                assertEquals(torn, set.device("m0").write(5, ByteBuffer.wrap(data), true), "the lost seq is given again");
                model.put(torn, model.get(torn - 1).write(0, 5, data));
            }
            try (CapturedSet set = t.open(SMALL_SEGMENTS)) {
                assertTrue(set.recovery().wasClean(), "the repaired journal reopens clean: " + set.recovery());
                assertEquals(torn, set.lastSeq());
                assertEquals(torn, set.verify());
                model.get(torn).assertPrimaryEquals(set, "after writing past the repaired tail");
                set.restoreInPlace(torn - 1, ProgressListener.NONE);
                model.get(torn - 1).assertPrimaryEquals(set, "restore across the repaired tail");
            }
        }
    }

    /**
     * One flipped byte in the newest record of the newest segment looks like a torn tail, but
     * a committed transaction holds that write (its cut forced the journal through it): it is
     * corruption, named and refused, and the journal is left as it is, so the seq is never given
     * to another write.
     */
    @Test
    void flippedByteInTheNewestRecordOfACommittedTransactionIsRefusedNotTruncated() throws IOException {
        try (TestSet t = fill(7)) {
            try (CapturedSet set = t.open(SMALL_SEGMENTS)) {
                set.cut(dev.rewind.increments.transaction.CutReason.DEMAND).orElseThrow();
            }
            List<Path> segs = segments();
            Path newest = segs.get(segs.size() - 1);
            Rec last = records(newest).stream().filter(x -> x.type() == TYPE_WRITE).reduce((a, b) -> b).orElseThrow();
            assertEquals(model.lastKey(), last.seq(), "the last WRITE is the newest seq");
            flipByte(newest, last.position() + RECORD_HEADER + last.payloadBytes() / 2);
            byte[] damaged = Files.readAllBytes(newest);

            CorruptDataException e = assertThrows(CorruptDataException.class, () -> t.open(SMALL_SEGMENTS).close());
            assertNamesPlace(e, newest, last.position());
            assertTrue(e.getMessage().contains("committed transaction"), e.getMessage());
            assertArrayEquals(damaged, Files.readAllBytes(newest), "the refused open cut nothing off");
        }
    }

    /** What a crash (or a bad disk) can leave after the last whole record of the newest segment. */
    enum Garbage {
        RANDOM_BYTES,
        PART_OF_A_HEADER,
        HEADER_WITH_MISSING_PAYLOAD,
        HEADER_WITH_BAD_PAYLOAD_CRC,
        HEADER_WITH_BAD_HEADER_CRC
    }

    @ParameterizedTest
    @EnumSource(Garbage.class)
    void garbageAfterTheLastRecordIsTruncatedAtOpen(Garbage kind) throws IOException {
        try (TestSet t = fill(5)) {
            long head = model.lastKey();
            List<Path> segs = segments();
            Path newest = segs.get(segs.size() - 1);
            byte[] garbage = garbage(kind, head + 1);
            Files.write(newest, garbage, StandardOpenOption.APPEND);

            try (CapturedSet set = t.open(SMALL_SEGMENTS)) {
                String c = kind + ": " + set.recovery();
                assertEquals(garbage.length, set.recovery().truncatedJournalBytes(), c);
                assertEquals(0, set.recovery().dirtyRegions(), c);
                assertEquals(head, set.lastSeq(), c);
                assertEquals(head, set.verify(), c);
                model.get(head).assertPrimaryEquals(set, c);
                byte[] data = new byte[4096];
                new Random(6).nextBytes(data);
                assertEquals(head + 1, set.device("m1").write(4096, ByteBuffer.wrap(data), true), c);
                model.put(head + 1, model.get(head).write(1, 4096, data));
            }
            try (CapturedSet set = t.open(SMALL_SEGMENTS)) {
                assertTrue(set.recovery().wasClean(), kind + ": the repaired journal reopens clean: " + set.recovery());
                assertEquals(head + 1, set.lastSeq());
                assertEquals(head + 1, set.verify());
                model.get(head + 1).assertPrimaryEquals(set, kind + ": after writing past the repaired tail");
                Path dir = tmp.resolve("clone");
                set.cloneTo(head - 1, dir, ProgressListener.NONE);
                model.get(head - 1).assertCloneEquals(set, dir, kind + ": clone below the repaired tail");
            }
        }
    }

    private static byte[] garbage(Garbage kind, long nextSeq) {
        Random r = new Random(kind.ordinal());
        byte[] payload = new byte[4096];
        r.nextBytes(payload);
        ByteBuffer header = recordHeader(nextSeq, payload);
        return switch (kind) {
            case RANDOM_BYTES -> {
                byte[] b = new byte[1000];
                r.nextBytes(b);
                b[0] = 0;
                yield b;
            }
            case PART_OF_A_HEADER -> java.util.Arrays.copyOf(header.array(), 20);
            case HEADER_WITH_MISSING_PAYLOAD -> concat(header.array(), java.util.Arrays.copyOf(payload, 100));
            case HEADER_WITH_BAD_PAYLOAD_CRC -> {
                byte[] p = payload.clone();
                p[2000] ^= 1;
                yield concat(header.array(), p);
            }
            case HEADER_WITH_BAD_HEADER_CRC -> {
                byte[] h = header.array().clone();
                h[30] ^= 1;
                yield concat(h, payload);
            }
        };
    }

    /** A well-formed WRITE header for seq {@code seq}: member 0, offset 0, the given payload. */
    private static ByteBuffer recordHeader(long seq, byte[] payload) {
        CRC32C payloadCrc = new CRC32C();
        payloadCrc.update(payload);
        ByteBuffer h = ByteBuffer.allocate(RECORD_HEADER).order(ByteOrder.BIG_ENDIAN);
        h.putInt(RECORD_MAGIC).put((byte) TYPE_WRITE).put((byte) 0).putShort((short) 0)
                .putLong(seq).putLong(System.currentTimeMillis() * 1000).putLong(0).putInt(payload.length).putInt(payload.length)
                .putInt((int) payloadCrc.getValue());
        CRC32C crc = new CRC32C();
        crc.update(h.array(), 0, 44);
        h.putInt((int) crc.getValue());
        return h;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void wellFormedRecordAppendedByHandIsAccepted() throws IOException {
        // guards the byte-level layout the other tests rely on: a correct record is not "garbage"
        try (TestSet t = fill(6)) {
            long head = model.lastKey();
            List<Path> segs = segments();
            byte[] payload = new byte[4096];
            new Random(7).nextBytes(payload);
            Files.write(segs.get(segs.size() - 1), concat(recordHeader(head + 1, payload).array(), payload), StandardOpenOption.APPEND);
            try (CapturedSet set = t.open(SMALL_SEGMENTS)) {
                assertEquals(0, set.recovery().truncatedJournalBytes(), set.recovery().toString());
                assertEquals(head + 1, set.lastSeq());
                assertEquals(head + 1, set.verify());
            }
        }
    }

    @Test
    void tornHeaderOfANewSegmentIsRemovedAtOpen() throws IOException {
        try (TestSet t = fill(8)) {
            long head = model.lastKey();
            // a crash while the journal was rolling: the new segment's header is half written
            Path next = journalDir.resolve(String.format("%020d.rwj", head + 1));
            byte[] half = java.util.Arrays.copyOf("RWNDJSEG".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 30);
            Files.write(next, half, StandardOpenOption.CREATE_NEW);

            try (CapturedSet set = t.open(SMALL_SEGMENTS)) {
                assertEquals(30, set.recovery().truncatedJournalBytes(), set.recovery().toString());
                assertTrue(Files.notExists(next), "the torn segment is removed");
                assertEquals(head, set.lastSeq());
                assertEquals(head, set.verify());
                model.get(head).assertPrimaryEquals(set, "after removing a torn segment");
                assertEquals(head + 1, set.device("m0").writeZeroes(0, 8192, true));
            }
            try (CapturedSet set = t.open(SMALL_SEGMENTS)) {
                assertTrue(set.recovery().wasClean(), set.recovery().toString());
                assertEquals(head + 1, set.lastSeq());
                model.get(head).zero(0, 0, 8192).assertPrimaryEquals(set, "after writing past the removed segment");
            }
        }
    }
}
