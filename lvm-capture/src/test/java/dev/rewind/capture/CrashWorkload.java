package dev.rewind.capture;

import dev.rewind.testfixtures.model.ImageModel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.util.Random;

/**
 * The crash test's workload, shared by the child that runs it and the parent that checks
 * it: the op with seq {@code s} is a pure function of {@code (seed, s)} and the member
 * sizes, so the parent rebuilds the model from seq numbers alone, and a child that
 * resumes after a crash re-issues lost seqs with the same content.
 */
final class CrashWorkload {
    /** Small segments, so that segments roll and seal while the child is being killed. */
    static final CaptureOptions OPTIONS = new CaptureOptions(1L << 20, Clock.systemUTC(), Duration.ofMillis(100));
    static final String SET = "crash";

    enum Kind { WRITE, TRIM, WRITE_ZEROES }

    /** One op; {@code data} is null unless WRITE. */
    record Op(long seq, Kind kind, int member, long offset, int length, byte[] data, boolean fua) {
        ImageModel applyTo(ImageModel image) {
            return kind == Kind.WRITE ? image.write(member, offset, data) : image.zero(member, offset, length);
        }

        /** Runs the op on the set; returns the seq the set gave it. */
        long runOn(CapturedSet set) throws IOException {
            BlockDevice d = set.devices().get(member);
            return switch (kind) {
                case WRITE -> d.write(offset, ByteBuffer.wrap(data), fua);
                case TRIM -> d.trim(offset, length, fua);
                case WRITE_ZEROES -> d.writeZeroes(offset, length, fua);
            };
        }
    }

    private CrashWorkload() {
    }

    /**
     * Pseudo-random bytes from a xorshift generator: cheap, so that the child spends its time
     * in the capture path (where the kills should land), not in making data.
     */
    private static byte[] fill(int length, long state) {
        byte[] out = new byte[length];
        ByteBuffer b = ByteBuffer.wrap(out);
        long x = state | 1;
        while (b.remaining() >= 8) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            b.putLong(x);
        }
        while (b.hasRemaining()) {
            b.put((byte) x);
            x >>>= 8;
        }
        return out;
    }

    static Op op(long seed, long seq, long[] memberSizes) {
        Random r = new Random(seed * 31 + seq);
        int member = r.nextInt(memberSizes.length);
        long size = memberSizes[member];
        int k = r.nextInt(100);
        Kind kind = k < 80 ? Kind.WRITE : k < 90 ? Kind.TRIM : Kind.WRITE_ZEROES;
        int length = switch (r.nextInt(4)) {
            case 0 -> 1 + r.nextInt(4096);
            case 1 -> 4096 * (1 + r.nextInt(16));
            default -> 1 + r.nextInt(256 << 10);
        };
        length = (int) Math.min(length, size);
        long offset;
        if (r.nextBoolean()) {
            offset = (long) (r.nextDouble() * (size - length + 1));
        } else {
            // straddle a 64 KiB extent boundary or a 1 MiB dirty region boundary
            long unit = r.nextBoolean() ? 64L << 10 : 1L << 20;
            long boundaries = Math.max(1, size / unit);
            long b = unit * (1 + r.nextInt((int) boundaries));
            offset = Math.max(0, Math.min(size - length, b - 1 - r.nextInt(length)));
        }
        byte[] data = null;
        if (kind == Kind.WRITE) {
            data = fill(length, r.nextLong());
        }
        return new Op(seq, kind, member, offset, length, data, r.nextInt(50) == 0);
    }
}
