package dev.rewind.increments.replica;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.testfixtures.tools.Tools;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A replica image leaves all-zero chunks as holes; counted with the real {@code stat(1)}, hence an integration test. */
class ReplicaImageSparseIT {
    private static final int CHUNK = ReplicaImage.CHUNK_BYTES;

    @TempDir
    Path dir;

    @Test
    void allZeroChunksAreHolesInASparseImage() throws IOException {
        int size = 64 << 20;
        byte[] written = new byte[CHUNK];
        new Random(6).nextBytes(written);
        ReplicaImage.Source source = (offset, dst) -> {
            if (offset == 10L * CHUNK || offset == 500L * CHUNK) {
                dst.put(written, 0, dst.remaining());
            } else {
                dst.put(new byte[dst.remaining()]);
            }
        };
        try (ReplicaImage replica = ReplicaImage.create(dir, "big", size, source, ProgressListener.NONE)) {
            ByteBuffer dst = ByteBuffer.allocate(CHUNK);
            replica.read(500L * CHUNK, dst);
            assertArrayEquals(written, dst.array());
            dst.clear();
            replica.read(499L * CHUNK, dst);
            assertArrayEquals(new byte[CHUNK], dst.array());
        }
        Path image = dir.resolve("big.img");
        assertEquals(size, Files.size(image));
        long allocated = allocatedBytes(image);
        assertTrue(allocated < 1 << 20, "2 chunks of data in a 64 MiB image, yet " + allocated + " bytes are allocated");
    }

    /** {@code stat}'s count of 512-byte blocks the file really occupies. */
    private static long allocatedBytes(Path file) {
        String stat = Tools.requireTool("stat", "coreutils");
        String[] parts = Tools.run(Duration.ofSeconds(30), List.of(stat, "-c", "%b %B", file.toString())).assertOk().out().trim().split(" ");
        return Long.parseLong(parts[0]) * Long.parseLong(parts[1]);
    }
}
