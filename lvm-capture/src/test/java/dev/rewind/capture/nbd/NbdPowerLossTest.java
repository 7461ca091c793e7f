package dev.rewind.capture.nbd;

import static dev.rewind.capture.nbd.NbdProtocol.CMD_FLAG_FUA;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.capture.CapturedSet;
import dev.rewind.testfixtures.fs.PowerLossDisk;
import dev.rewind.testfixtures.fs.PowerLossFileSystemProvider;
import dev.rewind.testfixtures.model.ImageModel;
import dev.rewind.testfixtures.nbd.NbdTestClient;
import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.testfixtures.set.TestSet;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Power loss under NBD load: a client writes, trims, FUA-writes and flushes through
 * {@code rewind serve}'s server while the power is cut at a random moment (the data dir, the
 * secondary and the PV on the power-loss file system). After each cut the set reopens,
 * recovers, holds every write the client saw acknowledged as durable (by a flush or FUA that
 * returned), equals the model at the seq it recovered to, and verifies.
 *
 * <p>Replay one seed: {@code -Drewind.seed=N}. More seeds: {@code -Drewind.seeds=40}.
 */
class NbdPowerLossTest {
    private static final int MEMBER_BYTES = 512 << 10;

    @TempDir
    Path tmp;

    static LongStream seeds() {
        return Seeds.range(1, 6);
    }

    /** The client's view: the model image after each of its writes (index = seq), and what it knows is durable. */
    private static final class ClientModel {
        final List<ImageModel> images = new ArrayList<>();
        volatile long durableSeq;
        /** The image a request in flight would give, had it reached the journal when the power went. */
        volatile ImageModel inFlight;

        long headSeq() {
            return images.size() - 1;
        }
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void everyWriteAcknowledgedAsDurableOverNbdSurvivesPowerLoss(long seed) throws Exception {
        Random r = new Random(seed);
        Path root = Files.createDirectory(tmp.resolve("disk"));
        try (PowerLossDisk disk = PowerLossFileSystemProvider.installed().track(root)) {
            TestSet t = TestSet.createDurably(root, "s", MEMBER_BYTES);
            ClientModel model = new ClientModel();
            model.images.add(ImageModel.zeros(MEMBER_BYTES));
            for (int round = 1; round <= 4; round++) {
                String context = Seeds.describe(seed) + ", round " + round;
                CapturedSet set = t.open();
                long recovered = checkRecovered(set, model, context);
                NbdServer server = NbdServer.start(new InetSocketAddress("127.0.0.1", 0),
                        new CapturedSetExports(Map.of("s", set), (s, b) -> OptionalLong.empty()), NbdServer.TcpWrites.ANY_CLIENT);
                long clientSeed = r.nextLong();
                Thread client = new Thread(() -> runClient(server.port(), new Random(clientSeed), model), "nbd-client");
                client.setDaemon(true);
                client.start();
                Thread.sleep(20 + r.nextInt(300));
                disk.powerCut(r, PowerLossDisk.Survival.SOME_PAGES);
                client.join(30_000);
                assertTrue(!client.isAlive(), context + ": the client did not stop after the power cut");
                closeQuietly(server);
                closeQuietly(set);
                t.catalog.close();
                disk.restart();
                t = TestSet.attach(root, "s");
                assertTrue(model.headSeq() >= recovered, context);
            }
            CapturedSet set = t.open();
            checkRecovered(set, model, Seeds.describe(seed) + ", after the last cut");
            set.close();
            t.close();
        }
    }

    /**
     * Synchronous requests until one fails (the power is off): each acknowledged write extends
     * the model by one seq; a flush or FUA that returned makes everything so far durable.
     */
    private static void runClient(int port, Random r, ClientModel model) {
        try (NbdTestClient c = NbdTestClient.connect(port)) {
            c.go("s/m0");
            for (;;) {
                int op = r.nextInt(100);
                if (op < 10) {
                    if (c.flush() != 0) {
                        return;
                    }
                    model.durableSeq = model.headSeq();
                    continue;
                }
                int length = 1 + r.nextInt(r.nextBoolean() ? 4096 : 65536);
                long offset = r.nextInt(MEMBER_BYTES - length);
                boolean fua = r.nextInt(8) == 0;
                ImageModel head = model.images.get(model.images.size() - 1);
                ImageModel next;
                int error;
                if (op < 85) {
                    byte[] data = new byte[length];
                    r.nextBytes(data);
                    next = head.write(0, offset, data);
                    model.inFlight = next;
                    error = c.write(fua ? CMD_FLAG_FUA : 0, offset, data);
                } else {
                    next = head.zero(0, offset, length);
                    model.inFlight = next;
                    error = op < 93 ? c.trim(fua ? CMD_FLAG_FUA : 0, offset, length) : c.writeZeroes(fua ? CMD_FLAG_FUA : 0, offset, length);
                }
                if (error != 0) {
                    return; // the request may or may not have reached the journal: recovery decides
                }
                model.images.add(next);
                model.inFlight = null;
                if (fua) {
                    model.durableSeq = model.headSeq();
                }
            }
        } catch (IOException | AssertionError e) {
            // the server went down with the power
        }
    }

    /** The block-device contract after the cut; returns the seq the set recovered to, and trims the model to it. */
    private static long checkRecovered(CapturedSet set, ClientModel model, String context) throws IOException {
        ImageModel inFlight = model.inFlight;
        if (inFlight != null) {
            model.images.add(inFlight); // reached the journal or not: either way only recovery can tell
            model.inFlight = null;
        }
        long seq = set.lastSeq();
        assertTrue(seq >= model.durableSeq, context + ": recovered to seq " + seq + " but the client was told seq " + model.durableSeq
                + " was durable");
        assertTrue(seq <= model.headSeq(), context + ": recovered to seq " + seq + ", newer than the newest write " + model.headSeq());
        model.images.get((int) seq).assertPrimaryEquals(set, context + ", recovered to seq " + seq);
        set.verify();
        long past = (long) (new Random(seq).nextDouble() * seq);
        ByteBuffer buf = ByteBuffer.allocate(MEMBER_BYTES);
        set.readAt(Math.max(past, set.oldestSeq()), 0, 0, buf);
        ImageModel.assertSameBytes(context + ", read at seq " + past, model.images.get((int) Math.max(past, set.oldestSeq())).bytes(0),
                buf.array());
        while (model.headSeq() > seq) {
            model.images.remove(model.images.size() - 1);
        }
        model.durableSeq = seq;
        return seq;
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception expected) {
            // the power is off: nothing it does now reaches the disk
        }
    }
}
