package dev.rewind.increments.increment;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The compressed increment chunks decompressed most recently, shared by every open increment of
 * the process and bounded in bytes ({@code -Drewind.chunkCacheMiB}, default 64; the oldest go
 * first): random reads of the past (a sandbox, a past export) come back to the same
 * backward-increment chunks, and decompressing a whole chunk for each 4 KiB read would cost a
 * hundred times the read. Increments never change once written, so a cached chunk stays right;
 * both its CRCs were checked when it was loaded. Chunks are keyed by the reader that loaded them,
 * and forgotten when it closes.
 */
final class DecompressedChunks {
    private static final long BUDGET_BYTES = Long.getLong("rewind.chunkCacheMiB", 64) << 20;

    private record Key(ChunkReader reader, int chunk) {
    }

    private static final Map<Key, byte[]> CHUNKS = new ConcurrentHashMap<>();
    private static final ConcurrentLinkedQueue<Key> ORDER = new ConcurrentLinkedQueue<>();
    private static final AtomicLong CACHED_BYTES = new AtomicLong();

    private DecompressedChunks() {
    }

    /** The raw bytes of {@code chunk} of {@code reader}'s increment, or null if not cached. Never modify them. */
    static byte[] get(ChunkReader reader, int chunk) {
        return CHUNKS.get(new Key(reader, chunk));
    }

    /** Keeps a copy of the first {@code length} bytes of {@code raw} as {@code chunk} of {@code reader}'s increment. */
    static void put(ChunkReader reader, int chunk, byte[] raw, int length) {
        if (length > BUDGET_BYTES / 4) {
            return;
        }
        Key key = new Key(reader, chunk);
        if (CHUNKS.putIfAbsent(key, Arrays.copyOf(raw, length)) != null) {
            return;
        }
        ORDER.add(key);
        CACHED_BYTES.addAndGet(length);
        while (CACHED_BYTES.get() > BUDGET_BYTES) {
            Key oldest = ORDER.poll();
            if (oldest == null) {
                break;
            }
            byte[] gone = CHUNKS.remove(oldest);
            if (gone != null) {
                CACHED_BYTES.addAndGet(-gone.length);
            }
        }
    }

    /** Forgets the chunks of a closed increment. */
    static void forget(ChunkReader reader) {
        CHUNKS.keySet().removeIf(k -> {
            if (k.reader() != reader) {
                return false;
            }
            byte[] gone = CHUNKS.get(k);
            if (gone != null) {
                CACHED_BYTES.addAndGet(-gone.length);
            }
            return true;
        });
        ORDER.removeIf(k -> k.reader() == reader);
    }
}
