package dev.rewind.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.rewind.increments.increment.IncrementCodec;
import dev.rewind.increments.increment.IncrementDirection;
import dev.rewind.increments.increment.IncrementFile;
import dev.rewind.increments.journal.JournalRecord;
import dev.rewind.increments.journal.RecordType;
import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.increments.restore.RestoreResult;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.increments.transaction.CutRules;
import dev.rewind.increments.transaction.Transaction;
import dev.rewind.testfixtures.model.ImageModel;
import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.testfixtures.set.TestSet;
import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Model-based test of transactions (issue 12): a seeded random workload of writes, trims,
 * write-zeroes, FUA, flushes, on-demand cuts, cuts by the write and byte rules, restores in
 * place (and their undo) and reopens runs against a real set of two small members with 1 MiB
 * journal segments, while {@link ImageModel} keeps the image at every seq. Checked against the
 * model: past reads, clones and restores in place at random boundaries and random exact writes;
 * the replica at the newest cut; the transaction list (contiguous, writes and bytes as the
 * model counts them, no cut by a rule larger than the rule); and for every transaction, its
 * forward increment applied to the image at its start gives the image at its end, and its
 * backward increment applied to the image at its end gives the image at its start.
 *
 * <p>Where a rule must have fired (the open transaction has reached the rule's writes or
 * bytes), the test waits for the cut thread, with a generous deadline that only a cut that never
 * comes reaches. Replay one seed: {@code -Drewind.seed=N}. More seeds: {@code -Drewind.seeds=200}.
 */
class TransactionModelTest {
    private static final long KIB = 1024;
    private static final Duration RULE_DEADLINE = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    static LongStream seeds() {
        return Seeds.range(0x7A_0001L, 12);
    }

    /** zstd-jni unpacks its native library into java.io.tmpdir, which the build points at target/tmp and does not create. */
    @BeforeAll
    static void tempDirExists() throws IOException {
        Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir")));
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void transactionsIncrementsAndRestoresMatchModel(long seed) throws IOException, InterruptedException {
        new Run(seed, tmp).run();
    }

    /** One seed's workload: the real set, the model at every seq, and the checks. */
    private static final class Run {
        final long seed;
        final Path tmp;
        final Random r;
        /** The image after every seq, index = seq. */
        final List<ImageModel> images = new ArrayList<>();
        /** The length of every seq's record (for the byte rule and the transactions' bytes), index = seq. */
        final List<Long> recordBytes = new ArrayList<>();
        TestSet t;
        CapturedSet set;
        CaptureOptions options;
        CutRules rules;
        int clones;
        int restores;
        /** Seqs inside the writes of a restore in place (all but its last): never to be offered or placed. */
        final java.util.TreeSet<Long> insideRestores = new java.util.TreeSet<>();
        int reopens;
        int demandCuts;

        Run(long seed, Path tmp) {
            this.seed = seed;
            this.tmp = tmp;
            this.r = new Random(seed);
        }

        long head() {
            return images.size() - 1;
        }

        ImageModel current() {
            return images.get(images.size() - 1);
        }

        String at(String what) {
            return Seeds.describe(seed) + ", rules " + rules.describe() + ", head seq " + head() + ": " + what;
        }

        void run() throws IOException, InterruptedException {
            long[] requested = {(1 + r.nextInt(4)) << 20, (1 + r.nextInt(4)) << 20};
            rules = switch (r.nextInt(4)) {
                case 0 -> CutRules.NONE;
                case 1 -> CutRules.NONE.withWrites(3 + r.nextInt(30));
                case 2 -> CutRules.NONE.withBytes((64 + r.nextInt(1024)) * KIB);
                default -> CutRules.NONE.withWrites(5 + r.nextInt(40)).withBytes((128 + r.nextInt(1024)) * KIB);
            };
            IncrementCodec codec = IncrementCodec.values()[r.nextInt(IncrementCodec.values().length)];
            options = new CaptureOptions(1L << 20, Clock.systemUTC(), Duration.ZERO).withCutRules(rules).withCodec(codec)
                    .withSpanFanout(2 + r.nextInt(3)); // reads of the past cross many merged delta maps
            t = TestSet.create(tmp, "s", requested);
            try {
                set = t.open(options);
                images.add(ImageModel.zeros(set.devices().stream().mapToLong(BlockDevice::sizeBytes).toArray()));
                recordBytes.add(0L);
                workload(80 + r.nextInt(100));
                finalChecks();
            } finally {
                if (set != null) {
                    set.close();
                }
                t.close();
            }
        }

        void workload(int ops) throws IOException, InterruptedException {
            for (int i = 0; i < ops; i++) {
                int k = r.nextInt(100);
                if (k < 50) {
                    write();
                } else if (k < 60) {
                    zeroRange();
                } else if (k < 67) {
                    flush();
                } else if (k < 76) {
                    cutOnDemand();
                } else if (k < 79) {
                    reopen();
                } else if (k < 87) {
                    readAtRandomSeq();
                } else if (k < 92) {
                    restoreAndUndo(randomSeq());
                } else if (k < 95) {
                    cloneAndCheck(randomSeq());
                } else {
                    write();
                }
                awaitRules();
            }
        }

        // ---- the workload ----

        void write() throws IOException {
            int m = r.nextInt(current().memberCount());
            BlockDevice d = set.devices().get(m);
            int len = (int) Math.min(d.sizeBytes(), 1 + r.nextInt(r.nextBoolean() ? 4096 : 96 << 10));
            long off = r.nextInt(3) == 0 ? (long) r.nextInt((int) ((d.sizeBytes() - len) / 4096 + 1)) * 4096
                    : (long) (r.nextDouble() * (d.sizeBytes() - len + 1));
            byte[] data = new byte[len];
            r.nextBytes(data);
            boolean fua = r.nextInt(8) == 0;
            long seq = d.write(off, ByteBuffer.wrap(data), fua);
            advance(seq, current().write(m, off, data), len, "write " + d.name() + " " + off + "+" + len);
            if (fua) {
                assertEquals(seq, set.flushedSeq(), at("a FUA write is durable at once"));
            }
        }

        void zeroRange() throws IOException {
            int m = r.nextInt(current().memberCount());
            BlockDevice d = set.devices().get(m);
            long len = 1 + (long) (r.nextDouble() * d.sizeBytes() / (r.nextBoolean() ? 4 : 64));
            long off = (long) (r.nextDouble() * (d.sizeBytes() - len + 1));
            boolean trim = r.nextBoolean();
            boolean fua = r.nextInt(8) == 0;
            long seq = trim ? d.trim(off, len, fua) : d.writeZeroes(off, len, fua);
            advance(seq, current().zero(m, off, len), len, (trim ? "trim " : "write-zeroes ") + d.name() + " " + off + "+" + len);
        }

        void advance(long seq, ImageModel next, long length, String op) {
            assertEquals(head() + 1, seq, at(op + " takes the next seq"));
            images.add(next);
            recordBytes.add(length);
            assertEquals(head(), set.lastSeq(), at("lastSeq after " + op));
        }

        void flush() throws IOException {
            set.flush();
            assertEquals(head(), set.flushedSeq(), at("flush makes every seq durable"));
        }

        void cutOnDemand() throws IOException {
            long before = lastBoundary();
            Optional<Transaction> cut = set.cut(CutReason.DEMAND);
            if (before == head()) {
                assertTrue(cut.isEmpty(), at("nothing to cut after the boundary at the head: " + cut));
                return;
            }
            Transaction tx = cut.orElseThrow(() -> new AssertionError(at("a cut with writes after seq " + before + " makes a transaction")));
            assertEquals(head(), tx.lastSeq(), at("a cut on demand ends at the newest write: " + tx));
            assertEquals(CutReason.DEMAND, tx.reason(), at("the reason of " + tx));
            assertEquals(head(), lastBoundary(), at("the cut is the newest transaction"));
            assertEquals(head(), set.history().replicaSeq(), at("the replica moved to the cut"));
            demandCuts++;
        }

        void reopen() throws IOException {
            List<Transaction> before = set.transactions();
            set.close();
            set = null;
            reopens++;
            checkReplicaFiles(before.isEmpty() ? 0 : before.get(before.size() - 1).lastSeq());
            set = t.open(options);
            assertEquals(head(), set.lastSeq(), at("lastSeq survives a clean reopen"));
            assertEquals(before, set.transactions(), at("the transactions survive a reopen"));
        }

        /**
         * A restore in place writes, as restore records, the target's bytes over the ranges
         * changed after it: the model takes each record's range from the target's image (or
         * zeros), and after the last one it must be the target's image again.
         */
        void restoreAndUndo(long target) throws IOException {
            long before = head();
            RestoreResult res = restoreAndCheck(target);
            if (res.changedAnything()) {
                RestoreResult undo = restoreAndCheck(before);
                assertTrue(undo.changedAnything(), at("undoing " + res + " rewrites what it changed"));
            }
            restores++;
        }

        RestoreResult restoreAndCheck(long target) throws IOException {
            ImageModel wanted = images.get((int) target);
            RestoreResult res = set.restoreInPlace(target, ProgressListener.NONE);
            String what = "restore in place to seq " + target + " -> " + res;
            wanted.assertPrimaryEquals(set, at(what));
            assertEquals(head() + 1, res.firstSeq(), at(what + ": a restore's writes follow the head"));
            byte[][] targetBytes = new byte[wanted.memberCount()][];
            for (long s = res.firstSeq(); s <= res.lastSeq(); s++) {
                JournalRecord rec = set.journalRecord(s);
                assertTrue(rec.isRestore(), at(what + ": seq " + s + " is flagged as a restore"));
                int m = rec.memberIndex();
                ImageModel next;
                if (rec.type() == RecordType.WRITE) {
                    if (targetBytes[m] == null) {
                        targetBytes[m] = wanted.bytes(m);
                    }
                    next = current().write(m, rec.offsetBytes(),
                            Arrays.copyOfRange(targetBytes[m], (int) rec.offsetBytes(), (int) rec.endBytes()));
                } else {
                    next = current().zero(m, rec.offsetBytes(), rec.lengthBytes());
                }
                images.add(next);
                recordBytes.add((long) rec.lengthBytes());
            }
            assertEquals(head(), set.lastSeq(), at(what + ": lastSeq"));
            if (res.changedAnything()) {
                Transaction own = set.transactions().stream().filter(tx -> tx.lastSeq() == res.lastSeq()).findFirst()
                        .orElseThrow(() -> new AssertionError(at(what + ": a cut ends the restore: " + set.transactions())));
                assertEquals(res.firstSeq(), own.firstSeq(), at(what + ": the restore is a transaction of its own: " + own));
                assertEquals(CutReason.RESTORE, own.reason(), at(what + ": its reason: " + own));
                for (long s = res.firstSeq(); s < res.lastSeq(); s++) {
                    insideRestores.add(s);
                }
            }
            for (int m = 0; m < wanted.memberCount(); m++) {
                ImageModel.assertSameBytes(at(what + ": the restore's records rebuild member " + m + " of the target"),
                        wanted.bytes(m), current().bytes(m));
            }
            return res;
        }

        void cloneAndCheck(long target) throws IOException {
            Path dir = tmp.resolve("clone-" + clones++);
            set.cloneTo(target, dir, ProgressListener.NONE);
            images.get((int) target).assertCloneEquals(set, dir, at("clone at seq " + target));
            CaptureModelTest.deleteTree(dir);
        }

        void readAtRandomSeq() throws IOException {
            if (!insideRestores.isEmpty() && r.nextInt(4) == 0) {
                refuseInsideARestore(insideRestores.ceiling((long) (r.nextDouble() * (insideRestores.last() + 1))));
                return;
            }
            long seq = randomSeq();
            ImageModel image = images.get((int) seq);
            int m = r.nextInt(image.memberCount());
            int len = 1 + r.nextInt((int) Math.min(image.size(m), 256 * KIB));
            long off = (long) (r.nextDouble() * (image.size(m) - len + 1));
            ByteBuffer buf = ByteBuffer.allocate(len);
            set.readAt(seq, m, off, buf);
            ImageModel.assertSameBytes(at("read member " + m + " " + off + "+" + len + " at seq " + seq),
                    Arrays.copyOfRange(image.bytes(m), (int) off, (int) off + len), buf.array());
        }

        void readWholeAt(long seq, String what) throws IOException {
            ImageModel image = images.get((int) seq);
            for (int m = 0; m < image.memberCount(); m++) {
                ByteBuffer buf = ByteBuffer.allocate((int) image.size(m));
                set.readAt(seq, m, 0, buf);
                ImageModel.assertSameBytes(at(what + ", member " + m + " read at seq " + seq), image.bytes(m), buf.array());
            }
        }

        /**
         * A seq inside a restore's writes is refused by every read path, naming the nearest
         * points outside it, which read as the model has them.
         */
        void refuseInsideARestore(long seq) throws IOException {
            String what = "seq " + seq + " inside a restore";
            RewindException e = assertThrows(RewindException.class, () -> set.readAt(seq, 0, 0, ByteBuffer.allocate(1)), at(what));
            assertThrows(RewindException.class, () -> set.cloneTo(seq, tmp.resolve("refused"), ProgressListener.NONE), at(what));
            assertThrows(RewindException.class, () -> set.restoreInPlace(seq, ProgressListener.NONE), at(what));
            assertThrows(RewindException.class, () -> set.bookmarkPoint(java.util.OptionalLong.of(seq)), at(what));
            java.util.regex.Matcher named = java.util.regex.Pattern.compile("seq (\\d+)").matcher(
                    e.getMessage().substring(e.getMessage().indexOf("nearest")));
            int points = 0;
            while (named.find()) {
                long p = Long.parseLong(named.group(1));
                assertFalse(insideRestores.contains(p), at(what + ": the refusal names seq " + p + ", outside any restore: " + e.getMessage()));
                readWholeAt(p, what + ": a point its refusal names");
                points++;
            }
            assertTrue(points > 0, at(what + ": the refusal names the nearest points: " + e.getMessage()));
            assertEquals(head(), set.lastSeq(), at(what + ": a refused restore journals nothing"));
        }

        /** A random seq that is not inside a restore's writes: a transaction boundary half the time, otherwise any write. */
        long randomSeq() {
            List<Transaction> all = set.transactions();
            if (!all.isEmpty() && r.nextBoolean()) {
                int i = r.nextInt(all.size() + 1);
                return i == all.size() ? all.get(0).firstSeq() - 1 : all.get(i).lastSeq();
            }
            long seq = (long) (r.nextDouble() * (head() + 1));
            while (insideRestores.contains(seq)) {
                seq--;
            }
            return seq;
        }

        long lastBoundary() {
            List<Transaction> all = set.transactions();
            return all.isEmpty() ? 0 : all.get(all.size() - 1).lastSeq();
        }

        long pendingBytes(long boundary) {
            long sum = 0;
            for (long s = boundary + 1; s <= head(); s++) {
                sum += recordBytes.get((int) s);
            }
            return sum;
        }

        /** Whether the open transaction has reached the writes or the bytes of the rules, so that a cut must come. */
        boolean ruleMet(long boundary) {
            return rules.writes() > 0 && head() - boundary >= rules.writes()
                    || rules.bytes() > 0 && pendingBytes(boundary) >= rules.bytes();
        }

        /** Waits, up to a deadline that only a missing cut reaches, until the cut thread has cut what the rules require. */
        void awaitRules() throws InterruptedException {
            long deadline = System.nanoTime() + RULE_DEADLINE.toNanos();
            while (ruleMet(lastBoundary())) {
                if (System.nanoTime() - deadline > 0) {
                    fail(at("the open transaction after seq " + lastBoundary() + " holds " + (head() - lastBoundary()) + " writes and "
                            + pendingBytes(lastBoundary()) + " bytes, but the cut thread did not cut it within " + RULE_DEADLINE));
                }
                Thread.sleep(2);
            }
        }

        // ---- the checks at the end ----

        void finalChecks() throws IOException, InterruptedException {
            current().assertPrimaryEquals(set, at("primary at the end"));
            if (r.nextBoolean()) {
                cutOnDemand();
            }
            awaitRules();
            checkTransactions();
            long boundary = lastBoundary();
            // a cut the cut thread committed moves the replica right after its commit
            long deadline = System.nanoTime() + RULE_DEADLINE.toNanos();
            while (set.history().replicaSeq() != boundary && System.nanoTime() - deadline < 0) {
                Thread.sleep(2);
            }
            assertEquals(boundary, set.history().replicaSeq(), at("the replica is at the newest cut"));
            readWholeAt(boundary, "the replica's seq");
            for (Transaction tx : set.transactions()) {
                checkIncrements(tx);
            }
            for (int i = 0; i < 4; i++) {
                long seq = randomSeq();
                readWholeAt(seq, "past read");
            }
            cloneAndCheck(randomSeq());
            cloneAndCheck(0);
            restoreAndUndo(randomSeq());
            awaitRules();
            set.verify();
            reopen();
            checkTransactions();
            current().assertPrimaryEquals(set, at("primary after the final reopen"));
            assertTrue(head() > 0, at("the workload wrote something"));
            assertTrue(rules.isEmpty() || set.transactions().stream().anyMatch(tx -> tx.reason() != CutReason.DEMAND),
                    at("a rule cut at least once: " + set.transactions()));
        }

        /** Contiguous, consecutive ids, counts as the model has them, and no rule cut larger than its rule. */
        void checkTransactions() {
            List<Transaction> all = set.transactions();
            long expectedFirst = 1;
            long expectedId = 1;
            for (Transaction tx : all) {
                String what = "transaction " + tx;
                assertEquals(expectedId++, tx.id(), at(what + ": ids are consecutive"));
                assertEquals(expectedFirst, tx.firstSeq(), at(what + ": transactions are contiguous"));
                assertTrue(tx.lastSeq() >= tx.firstSeq() && tx.lastSeq() <= head(), at(what + ": seq range"));
                assertEquals(tx.lastSeq() - tx.firstSeq() + 1, tx.writes(), at(what + ": writes"));
                long bytes = 0;
                for (long s = tx.firstSeq(); s <= tx.lastSeq(); s++) {
                    bytes += recordBytes.get((int) s);
                }
                assertEquals(bytes, tx.bytes(), at(what + ": bytes"));
                assertTrue(tx.startMicros() <= tx.endMicros(), at(what + ": start before end"));
                if (tx.reason() == CutReason.WRITES) {
                    assertTrue(rules.writes() > 0 && tx.writes() <= rules.writes(), at(what + ": a cut by the writes rule holds at most "
                            + rules.writes() + " writes"));
                }
                if (tx.reason() == CutReason.BYTES) {
                    assertTrue(rules.bytes() > 0 && tx.bytes() - recordBytes.get((int) tx.lastSeq()) < rules.bytes(),
                            at(what + ": a cut by the bytes rule ends at the write that reached " + rules.bytes() + " bytes"));
                }
                assertTrue(tx.reason() == CutReason.DEMAND || tx.reason() == CutReason.WRITES || tx.reason() == CutReason.BYTES
                        || tx.reason() == CutReason.RESTORE, at(what + ": only the rules in force and restores cut"));
                assertFalse(insideRestores.contains(tx.lastSeq()), at(what + ": no cut falls inside a restore's writes"));
                expectedFirst = tx.lastSeq() + 1;
            }
        }

        /** Forward increment: image at the start to image at the end; backward increment: back again. */
        void checkIncrements(Transaction tx) throws IOException {
            ImageModel start = images.get((int) tx.firstSeq() - 1);
            ImageModel end = images.get((int) tx.lastSeq());
            IncrementFile forward = set.history().increments().get(tx.id(), IncrementDirection.FORWARD);
            IncrementFile backward = set.history().increments().get(tx.id(), IncrementDirection.BACKWARD);
            for (IncrementFile f : List.of(forward, backward)) {
                assertEquals(tx.firstSeq(), f.header().firstSeq(), at(f.path() + ": first seq"));
                assertEquals(tx.lastSeq(), f.header().lastSeq(), at(f.path() + ": last seq"));
                assertEquals(tx.id(), f.header().transactionId(), at(f.path() + ": transaction id"));
            }
            assertEquals(IncrementDirection.FORWARD, forward.header().direction(), at(forward.path() + ": direction"));
            assertEquals(IncrementDirection.BACKWARD, backward.header().direction(), at(backward.path() + ": direction"));
            assertImagesEqual(end, apply(forward, start), "forward increment of " + tx + " applied to the image at seq " + (tx.firstSeq() - 1));
            assertImagesEqual(start, apply(backward, end), "backward increment of " + tx + " applied to the image at seq " + tx.lastSeq());
        }

        static ImageModel apply(IncrementFile increment, ImageModel image) throws IOException {
            ImageModel[] out = {image};
            increment.forEach((member, offset, length, data) -> {
                if (data == null) {
                    out[0] = out[0].zero(member, offset, length);
                } else {
                    byte[] bytes = new byte[length];
                    data.get(bytes);
                    out[0] = out[0].write(member, offset, bytes);
                }
            });
            return out[0];
        }

        void assertImagesEqual(ImageModel expected, ImageModel actual, String what) {
            for (int m = 0; m < expected.memberCount(); m++) {
                ImageModel.assertSameBytes(at(what + ", member " + m), expected.bytes(m), actual.bytes(m));
            }
        }

        /** With the set closed: the replica files on the secondary are the model at the newest cut. */
        void checkReplicaFiles(long boundary) throws IOException {
            ImageModel image = images.get((int) boundary);
            Path dir = tmp.resolve("secondary").resolve("replica");
            for (int m = 0; m < image.memberCount(); m++) {
                Path file = dir.resolve("m" + m + ".img");
                byte[] bytes = Files.readAllBytes(file);
                byte[] expected = image.bytes(m);
                if (bytes.length < expected.length) {
                    bytes = Arrays.copyOf(bytes, expected.length); // a sparse image may end in a hole
                }
                ImageModel.assertSameBytes(at("replica file " + file + " at seq " + boundary), expected, bytes);
            }
        }
    }
}
