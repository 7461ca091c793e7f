package dev.rewind.increments.increment;

import java.util.Objects;
import java.util.UUID;

/**
 * What an increment file says about itself: the set and transaction it belongs to, which way
 * it goes, the seq range of the transaction ({@code firstSeq..lastSeq}, empty when
 * {@code lastSeq == firstSeq - 1}), how many members the set has and how its chunks are
 * compressed.
 */
public record IncrementHeader(UUID setUuid, long transactionId, IncrementDirection direction,
                              long firstSeq, long lastSeq, int memberCount, IncrementCodec codec) {
    public IncrementHeader {
        Objects.requireNonNull(setUuid, "setUuid");
        Objects.requireNonNull(direction, "direction");
        Objects.requireNonNull(codec, "codec");
        if (transactionId < 0) {
            throw new IllegalArgumentException("transaction id " + transactionId + " is negative");
        }
        if (firstSeq < 0 || lastSeq < firstSeq - 1) {
            throw new IllegalArgumentException("seq range " + firstSeq + ".." + lastSeq + " is not a range of seqs");
        }
        if (memberCount < 1) {
            throw new IllegalArgumentException("member count " + memberCount + ": a set has at least one member");
        }
    }
}
