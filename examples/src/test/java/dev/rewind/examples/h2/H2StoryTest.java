package dev.rewind.examples.h2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.cli.datadir.DataDir;
import dev.rewind.dbadapters.coordinate.CoordinatedRestoreReport;
import dev.rewind.dbadapters.coordinate.Step;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The H2 story runs whole in this process and ends where it should: the coordinated restore
 * to the last write before the DROP brings the table back with every order committed before
 * the drop and none inserted after it, and the consistent bookmark taken mid-run restores to
 * exactly the orders it held.
 */
class H2StoryTest {
    @TempDir
    Path dir;

    @Test
    void dropTableIsUndoneWithEveryOrderBeforeItAndNoneAfterAndTheConsistentBookmarkRestores() throws Exception {
        H2Story.Result r;
        try (DataDir data = new DataDir(dir)) {
            r = new H2Story(data, null).run();
        }
        List<Integer> beforeDrop = IntStream.rangeClosed(1, H2Story.ROWS_BEFORE_DROP).boxed().toList();
        List<Integer> afterDrop = IntStream.rangeClosed(H2Story.ROWS_BEFORE_DROP + 1, H2Story.ROWS_BEFORE_DROP + H2Story.ROWS_AFTER_DROP)
                .boxed().toList();
        assertEquals(beforeDrop, r.ordersBeforeDrop(), "the workload committed orders 1..N before the drop");
        assertEquals(afterDrop, r.ordersAfterDrop(), "after the drop only the orders inserted since are there");

        assertRestored(r.restoreBeforeDrop(), r.seqBeforeDrop());
        assertEquals(beforeDrop, r.ordersAfterRestore(), "every order committed before the DROP is back, none inserted after it");

        assertEquals(IntStream.rangeClosed(1, H2Story.ROWS_BEFORE_BOOKMARK).boxed().toList(), r.ordersAtBookmark());
        assertTrue(r.bookmarkSeq() < r.seqBeforeDrop(), "the bookmark was taken before the drop");
        assertRestored(r.restoreToBookmark(), r.bookmarkSeq());
        assertEquals(r.ordersAtBookmark(), r.ordersAfterBookmarkRestore(), "the consistent bookmark's seq restores to the orders it held");
    }

    private static void assertRestored(CoordinatedRestoreReport report, long targetSeq) {
        assertTrue(report.ok(), report.message());
        assertEquals(List.of("stop", "restore", "start", "accepting connections", "validate SELECT COUNT(*) > 0 FROM orders"),
                report.steps().stream().map(Step::name).toList());
        assertEquals(targetSeq, report.result().targetSeq());
        assertTrue(report.result().changedAnything(), "the restore rewrote what changed after seq " + targetSeq);
    }
}
