package dev.rewind.increments.increment;

/**
 * Which way an increment moves its blocks: a forward increment holds the final content of
 * every block a transaction changed, a backward increment the content those blocks had when
 * it began. Each has a fixed code in the increment's header ({@link #code()}).
 */
public enum IncrementDirection {
    FORWARD(1),
    BACKWARD(2);

    private final int code;

    IncrementDirection(int code) {
        this.code = code;
    }

    /** The byte that names this direction in an increment's header. */
    int code() {
        return code;
    }

    /** The direction with this header code, or null if none has it. */
    static IncrementDirection ofCode(int code) {
        for (IncrementDirection d : values()) {
            if (d.code == code) {
                return d;
            }
        }
        return null;
    }
}
