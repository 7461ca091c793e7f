package dev.rewind.increments.retention;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rewind.increments.increment.IncrementCodec;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.increments.transaction.Transaction;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RetentionPlanTest {
    private static final Instant START = Instant.parse("2031-06-01T00:00:00Z");

    /** Transactions 1..n, one every ten minutes from START, each of ten writes. */
    private static List<Transaction> transactions(int n) {
        List<Transaction> list = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            long start = micros(START.plus(Duration.ofMinutes(10L * (i - 1))));
            long end = micros(START.plus(Duration.ofMinutes(10L * i)));
            list.add(new Transaction(i, 10L * (i - 1) + 1, 10L * i, start, end, 10, 4096, CutReason.DEMAND, IncrementCodec.NONE, 1,
                    100, 100, 4096, false, 1, start));
        }
        return list;
    }

    private static long micros(Instant t) {
        return t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
    }

    @Test
    void whenTheRulesKeepOnlyTheNewestPointTheNewestTransactionStays() {
        // every transaction ended hours before now: the hourly rule keeps only the newest boundary (seq 30)
        RetentionPlan plan = RetentionPlan.of(transactions(3), 0, 30, START.plus(Duration.ofMinutes(35)),
                RetentionPolicy.parse("every-write:1m,transactions:1m,hourly:2h"), List.of());
        assertEquals(List.of(20L, 30L), List.copyOf(plan.kept().keySet()), "the newest transaction's start stays with it");
        assertEquals(2, plan.dropped(), "the two older transactions go, the newest stays");
        assertEquals(List.of(0L, 10L), plan.going());
    }

    @Test
    void anOlderKeptPointNeedsNoExtraPoint() {
        RetentionPlan plan = RetentionPlan.of(transactions(3), 0, 30, START.plus(Duration.ofMinutes(35)),
                RetentionPolicy.parse("every-write:1m,transactions:20m"), List.of());
        assertEquals(List.of(20L, 30L), List.copyOf(plan.kept().keySet()), "seq 20 (minute 20) is kept by transactions:20m");
        assertEquals(2, plan.dropped());
    }
}
