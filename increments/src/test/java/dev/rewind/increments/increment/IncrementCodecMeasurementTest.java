package dev.rewind.increments.increment;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rewind.testfixtures.seed.Seeds;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.LongStream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A measurement, not a timed test: writes a 64 MiB database-like stream (8 KiB pages, most with
 * a half zero-filled tail, some empty, some random) as an increment with each codec and prints
 * the stored size and the write (compress) and {@code forEach} (decompress) throughput. The only
 * assertion is that the bytes come back. Runs only when asked, as it takes a while:
 * {@code ./mvnw -o -pl increments -am test -Dtest=IncrementCodecMeasurementTest
 * -Dsurefire.failIfNoSpecifiedTests=false -Drewind.measure=true}.
 */
@EnabledIfSystemProperty(named = "rewind.measure", matches = "true")
class IncrementCodecMeasurementTest {
    private static final int PAGE = 8192;
    private static final int STREAM_BYTES = 64 << 20;
    private static final int ROUNDS = 2;

    @TempDir
    Path dir;

    @BeforeAll
    static void zstdCanLoad() throws IOException {
        IncrementWorkload.ensureTempDirExists();
    }

    static LongStream seeds() {
        return Seeds.of(0x0DB0_0064L);
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void printStoredSizeAndThroughputPerCodec(long seed) throws IOException {
        byte[] stream = databaseLikeStream(new Random(seed));
        System.out.printf("increment of a %d MiB database-like stream (%s):%n", STREAM_BYTES >> 20, Seeds.describe(seed));
        System.out.printf("%-5s %12s %7s %14s %16s%n", "codec", "stored bytes", "ratio", "write MB/s", "forEach MB/s");
        for (IncrementCodec codec : IncrementCodec.values()) {
            // Commons Compress's pure-Java LZ4 compressor is orders of magnitude slower on these
            // pages than zstd: measured on the first LZ4_SAMPLE_BYTES only.
            int measured = codec == IncrementCodec.LZ4 ? LZ4_SAMPLE_BYTES : STREAM_BYTES;
            CRC32C expectedSample = new CRC32C();
            expectedSample.update(stream, 0, measured);
            long bestWrite = Long.MAX_VALUE;
            long bestRead = Long.MAX_VALUE;
            long stored = 0;
            for (int round = 0; round < ROUNDS; round++) {
                Path file = dir.resolve(codec.settingName() + ".rwi");
                Files.deleteIfExists(file);
                long t0 = System.nanoTime();
                try (IncrementFile.Writer w = IncrementFile.create(file, new IncrementHeader(IncrementWorkload.SET, 1, IncrementDirection.FORWARD, 1, 8192, 1, codec))) {
                    for (int at = 0; at < measured; at += 64 * PAGE) {
                        w.add(0, at, ByteBuffer.wrap(stream, at, Math.min(64 * PAGE, measured - at)));
                    }
                    stored = w.finish().storedBytes();
                }
                long t1 = System.nanoTime();
                CRC32C got = new CRC32C();
                try (IncrementFile f = IncrementFile.open(file)) {
                    f.forEach((member, offset, length, data) -> got.update(data));
                }
                long t2 = System.nanoTime();
                assertEquals(expectedSample.getValue(), got.getValue(), codec + ": the stream comes back");
                bestWrite = Math.min(bestWrite, t1 - t0);
                bestRead = Math.min(bestRead, t2 - t1);
            }
            System.out.printf("%-5s %12d %7.2f %14.1f %16.0f%s%n", codec.settingName(), stored, (double) measured / stored,
                    measured / 1e6 / (bestWrite / 1e9), measured / 1e6 / (bestRead / 1e9), measured == STREAM_BYTES ? "" : "  (first " + (measured >> 20) + " MiB)");
        }
    }

    /**
     * 8 KiB pages like a database's heap files: 10 % never written (zeros), 10 % random (compressed
     * or encrypted values), the rest a small header, rows of text and numbers filling 30-70 % of
     * the page, and a zero-filled tail.
     */
    static byte[] databaseLikeStream(Random r) {
        byte[] out = new byte[STREAM_BYTES];
        byte[] page = new byte[PAGE];
        String[] names = {"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"};
        for (int p = 0; p < STREAM_BYTES / PAGE; p++) {
            Arrays.fill(page, (byte) 0);
            int kind = r.nextInt(10);
            if (kind == 0) {
                // an empty page: zeros
            } else if (kind == 1) {
                r.nextBytes(page);
            } else {
                ByteBuffer b = ByteBuffer.wrap(page);
                b.putLong(r.nextLong()).putInt(p).putShort((short) 24).putShort((short) PAGE);
                int fill = PAGE * (30 + r.nextInt(41)) / 100;
                while (b.position() < fill) {
                    byte[] row = (r.nextInt(1_000_000) + "|" + names[r.nextInt(names.length)] + "|" + (r.nextInt(100_000) / 100.0) + "|2024-0"
                            + (1 + r.nextInt(9)) + "-1" + r.nextInt(10) + "|").getBytes(StandardCharsets.US_ASCII);
                    b.put(row, 0, Math.min(row.length, b.remaining()));
                }
            }
            System.arraycopy(page, 0, out, p * PAGE, PAGE);
        }
        return out;
    }
}
