package dev.rewind.capture.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.capture.CapturedSet;
import dev.rewind.testfixtures.set.TestSet;
import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A set whose restore in place was cut short is not served as it is now (it holds a mix of
 * the target and what came after it): its members are neither listed nor opened, while its
 * past stays served read-only; once the restore is resumed, the members are served again.
 */
class InterruptedRestoreExportsTest {
    @TempDir
    Path tmp;

    @Test
    void membersOfAnInterruptedSetAreNotServedUntilTheRestoreIsResumed() throws IOException {
        try (TestSet t = TestSet.create(tmp, "s", 256 << 10, 128 << 10)) {
            try (CapturedSet set = t.open()) {
                set.devices().get(0).write(0, ByteBuffer.wrap(new byte[] {1, 2, 3}), false);
                for (int i = 0; i < 8; i++) {
                    set.devices().get(i % 2).write(i * 8192L, ByteBuffer.wrap(new byte[8192]).put(0, (byte) (i + 7)), false);
                }
                long[] written = {0};
                assertThrows(IllegalStateException.class, () -> set.restoreInPlace(1, bytes -> {
                    if ((written[0] += bytes) > 0) {
                        throw new IllegalStateException("cut short");
                    }
                }));
            }
            try (CapturedSet set = t.open()) {
                CapturedSetExports exports = new CapturedSetExports(Map.of("s", set), (s, b) -> OptionalLong.empty());
                assertTrue(set.interruptedRestore().isPresent(), "the reopened set knows its restore was cut short");
                assertEquals(List.of(), exports.names(), "no member of the set is listed");
                RewindException e = assertThrows(RewindException.class, () -> exports.open("s/m0"));
                assertTrue(e.getMessage().contains("interrupted") && e.getMessage().contains("rewind status s"), e.getMessage());
                NbdExport past = exports.open("s/m0@1").orElseThrow();
                assertTrue(past.isReadOnly(), "the past is served read-only");
                ByteBuffer first = ByteBuffer.allocate(3);
                past.read(0, first);
                assertEquals(ByteBuffer.wrap(new byte[] {1, 2, 3}), first.flip());

                set.resumeRestore(ProgressListener.NONE);
                assertEquals(List.of("s/m0", "s/m1"), exports.names());
                NbdExport member = exports.open("s/m0").orElseThrow();
                member.write(0, ByteBuffer.wrap(new byte[] {9}), false);
            }
        }
    }
}
