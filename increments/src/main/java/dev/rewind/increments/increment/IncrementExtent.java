package dev.rewind.increments.increment;

/**
 * One range of one member held by an increment. With {@code zeros}, the range reads as zeros
 * and has no stored bytes.
 */
public record IncrementExtent(int member, long offsetBytes, long lengthBytes, boolean zeros) {
    public IncrementExtent {
        if (member < 0 || offsetBytes < 0 || lengthBytes <= 0 || offsetBytes + lengthBytes < offsetBytes) {
            throw new IllegalArgumentException("extent member " + member + " [" + offsetBytes + ", +" + lengthBytes + ") is not a range of a member");
        }
    }

    /** The first byte after the extent. */
    public long endBytes() {
        return offsetBytes + lengthBytes;
    }
}
