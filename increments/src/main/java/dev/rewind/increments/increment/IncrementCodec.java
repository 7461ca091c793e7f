package dev.rewind.increments.increment;

import java.util.Locale;

/**
 * How the chunks of an increment are compressed. Each has a fixed code in the increment's
 * header ({@link #code()}), independent of declaration order, so that values can be added
 * without changing files already written.
 */
public enum IncrementCodec {
    /** Zstandard, level 3 (through Apache Commons Compress and zstd-jni): the default. */
    ZSTD(1),
    /**
     * LZ4 frame format, 64 KiB independent blocks (Apache Commons Compress, pure Java). Its
     * compressor is far slower than zstd on database pages (see the measurement test): zstd is the choice.
     */
    LZ4(2),
    /** Stored as is. */
    NONE(0);

    private final int code;

    IncrementCodec(int code) {
        this.code = code;
    }

    /** The byte that names this codec in an increment's header. */
    int code() {
        return code;
    }

    /** The codec with this header code, or null if none has it. */
    static IncrementCodec ofCode(int code) {
        for (IncrementCodec c : values()) {
            if (c.code == code) {
                return c;
            }
        }
        return null;
    }

    /** "zstd", "lz4" or "none" (any case), as given in settings and on the command line. */
    public static IncrementCodec parse(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        for (IncrementCodec c : values()) {
            if (c.settingName().equals(n)) {
                return c;
            }
        }
        throw new IllegalArgumentException("unknown increment compression '" + name + "': use zstd, lz4 or none");
    }

    /** The name {@link #parse} accepts: "zstd", "lz4", "none". */
    public String settingName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
