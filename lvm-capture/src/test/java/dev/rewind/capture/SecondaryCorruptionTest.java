package dev.rewind.capture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.increments.increment.IncrementCodec;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.testfixtures.set.TestSet;
import dev.rewind.volumeset.CorruptDataException;
import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Invariant 5 over every kind of file in a set's secondary that {@link JournalCorruptionTest}
 * (sealed and newest journal segments, committed records at the tail) and
 * {@link IncrementCorruptionTest} (backward increments) do not flip: one flipped byte is named
 * and refused at open or by verify, the file is left as it was (never truncated nor rewritten),
 * and the primary's bytes do not change. (A segment's index file is derived from its checked
 * segment and rebuilt from it: {@code SegmentIndexFileTest}.)
 */
class SecondaryCorruptionTest {
    /** A kind of file of the secondary, and a byte of it that a check covers. */
    enum Kind {
        TRANSACTION_LOG("transactions.log", 20),
        TRANSACTION_RECORD("transactions.log", 32 + 8 + 3),
        FORWARD_INCREMENT(".fwd", 20),
        FORWARD_INCREMENT_DATA(".fwd", -100),
        REPLICA_IMAGE(".img", 4096 + 17),
        DRL("drl", 20),
        SET_LABEL("SET", 1);

        final String nameEnd;
        /** From the start, or (negative) from the end. */
        final long offset;

        Kind(String nameEnd, long offset) {
            this.nameEnd = nameEnd;
            this.offset = offset;
        }
    }

    @org.junit.jupiter.api.io.TempDir
    Path tmp;

    @ParameterizedTest(name = "{0}")
    @EnumSource(Kind.class)
    void aFlippedByteIsNamedAndRefusedAndNeitherTheFileNorThePrimaryChanges(Kind kind) throws IOException {
        CaptureOptions options = new CaptureOptions(1L << 20, Clock.systemUTC(), Duration.ZERO).withCodec(IncrementCodec.NONE);
        Random r = new Random(5);
        try (TestSet t = TestSet.create(tmp, "s", 1 << 20, 512 << 10)) {
            try (CapturedSet set = t.open(options)) {
                for (int cut = 0; cut < 3; cut++) {
                    for (int i = 0; i < 14; i++) {
                        byte[] data = new byte[20_000 + r.nextInt(60_000)];
                        r.nextBytes(data);
                        int m = r.nextInt(2);
                        set.devices().get(m).write(r.nextInt((int) set.devices().get(m).sizeBytes() - data.length), ByteBuffer.wrap(data), false);
                    }
                    set.cut(CutReason.DEMAND);
                }
                set.devices().get(0).write(0, ByteBuffer.wrap(new byte[4096]), true);
            }
            Path file = find(tmp.resolve("secondary"), kind);
            long at = kind.offset >= 0 ? kind.offset : Files.size(file) + kind.offset;
            JournalCorruptionTest.flipByte(file, at);
            byte[] damaged = Files.readAllBytes(file);
            byte[] primary = Files.readAllBytes(tmp.resolve("pv0.img"));

            Exception refused = null;
            try (CapturedSet set = t.open(options)) {
                set.verify();
            } catch (CorruptDataException | RewindException e) {
                refused = e;
            }
            assertNotNull(refused, kind + ": a flipped byte at " + at + " of " + file + " is refused at open or by verify");
            String message = refused.getMessage();
            assertTrue(message.contains(file.toString()) || (refused instanceof CorruptDataException c && file.equals(c.file())),
                    kind + ": the refusal names " + file + ": " + message);
            assertArrayEquals(damaged, Files.readAllBytes(file), kind + ": " + file + " is left as it was");
            assertArrayEquals(primary, Files.readAllBytes(tmp.resolve("pv0.img")), kind + ": the primary is unchanged");
        }
    }

    private static Path find(Path secondary, Kind kind) throws IOException {
        try (Stream<Path> files = Files.walk(secondary)) {
            return files.filter(Files::isRegularFile).filter(p -> p.getFileName().toString().endsWith(kind.nameEnd)).sorted()
                    .findFirst().orElseThrow(() -> new AssertionError("no file ending in " + kind.nameEnd + " in " + secondary));
        }
    }
}
