package dev.rewind.dbadapters.mariadb;

import dev.rewind.dbadapters.api.DatabasePosition;
import dev.rewind.volumeset.MalformedValueException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Binary log coordinates: a binlog file name ({@code mysql-bin.000003}) and a byte offset in
 * it, written {@code mysql-bin.000003:1234}. As a {@link DatabasePosition} its order is the
 * file's numeric suffix times 2^40 plus the offset, so positions sort like the log across
 * files (offsets stay below 1 TiB, file numbers below 2^23).
 */
record BinlogPosition(String file, long offsetBytes) {
    static final int OFFSET_BITS = 40;
    private static final Pattern FILE = Pattern.compile("[A-Za-z0-9_.-]*\\.(\\d{1,7})");
    private static final Pattern TEXT = Pattern.compile("(" + FILE.pattern() + "):(\\d{1,13})");

    BinlogPosition {
        Matcher m = FILE.matcher(file);
        if (!m.matches() || offsetBytes < 0 || offsetBytes >= 1L << OFFSET_BITS) {
            throw new IllegalArgumentException("not binlog coordinates: " + file + ":" + offsetBytes);
        }
    }

    /** {@code FILE:POS} as typed ({@code mysql-bin.000003:1234}); a RewindException saying the expected form otherwise. */
    static BinlogPosition parse(String text) {
        Matcher m = TEXT.matcher(text == null ? "" : text.strip());
        if (!m.matches()) {
            throw new MalformedValueException("'" + text + "' is not a binlog position; give FILE:POS as SHOW MASTER STATUS shows it "
                    + "(e.g. mysql-bin.000003:1234) or a GTID DOMAIN-SERVER-SEQ (e.g. 0-1-42)");
        }
        return new BinlogPosition(m.group(1), Long.parseLong(m.group(3)));
    }

    /** The file's numeric suffix ({@code 3} for {@code mysql-bin.000003}). */
    long fileNumber() {
        Matcher m = FILE.matcher(file);
        m.matches();
        return Long.parseLong(m.group(1));
    }

    long order() {
        return fileNumber() << OFFSET_BITS | offsetBytes;
    }

    DatabasePosition toPosition() {
        return new DatabasePosition(file + ":" + offsetBytes, order());
    }

    @Override
    public String toString() {
        return file + ":" + offsetBytes;
    }
}
