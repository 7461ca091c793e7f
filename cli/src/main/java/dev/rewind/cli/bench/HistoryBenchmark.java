package dev.rewind.cli.bench;

import dev.rewind.increments.journal.Journal;
import dev.rewind.increments.journal.RecordType;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Path;
import java.time.Clock;
import java.util.UUID;

/**
 * What a journal's history costs when it is opened: run by {@code bench/history.sh}, one
 * step per JVM so that each open is the first in its process.
 *
 * <pre>
 *   HistoryBenchmark write DIR COUNT   appends COUNT WRITE_ZEROES records (no payload), then closes
 *   HistoryBenchmark open DIR          opens the journal, prints "open_ms heap_bytes last_seq"
 * </pre>
 * {@code heap_bytes} is the heap in use after the open and two {@link System#gc()} calls
 * (MemoryMXBean), with the journal still open. Only the journal's public API is used, so the
 * same class measures older builds too (compile it against their jars).
 */
public final class HistoryBenchmark {
    private static final UUID SET = UUID.fromString("b0000000-0000-4000-8000-00000000b157");

    private HistoryBenchmark() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length == 3 && args[0].equals("write")) {
            write(Path.of(args[1]), Long.parseLong(args[2]));
        } else if (args.length == 2 && args[0].equals("open")) {
            open(Path.of(args[1]));
        } else {
            System.err.println("usage: HistoryBenchmark write DIR COUNT | open DIR");
            System.exit(2);
        }
    }

    private static void write(Path dir, long count) throws IOException {
        try (Journal journal = Journal.open(dir, SET, 1, Journal.DEFAULT_SEGMENT_BYTES, Clock.systemUTC())) {
            for (long i = 0; i < count; i++) {
                journal.append(RecordType.WRITE_ZEROES, 0, (int) (i & 1), (i * 4096) % (1L << 30), 4096, null);
                if (i % 100_000 == 99_999) {
                    journal.flush();
                }
            }
        }
    }

    private static void open(Path dir) throws IOException {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long start = System.nanoTime();
        Journal journal = Journal.open(dir, SET, 1, Journal.DEFAULT_SEGMENT_BYTES, Clock.systemUTC());
        long openNanos = System.nanoTime() - start;
        System.gc();
        System.gc();
        long heap = memory.getHeapMemoryUsage().getUsed();
        System.out.printf("%.1f %d %d%n", openNanos / 1e6, heap, journal.lastSeq());
        journal.close();
    }
}
