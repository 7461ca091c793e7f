package dev.rewind.dbadapters.mariadb;

import dev.rewind.dbadapters.api.ConsistentPoint;
import dev.rewind.dbadapters.api.DatabasePosition;
import dev.rewind.dbadapters.api.JdbcAdapter;
import dev.rewind.dbadapters.api.Engine;
import dev.rewind.dbadapters.api.FoundStatement;
import dev.rewind.dbadapters.api.FoundStatements;
import dev.rewind.dbadapters.api.LogFiles;
import dev.rewind.dbadapters.api.LogLocation;
import dev.rewind.dbadapters.api.SeqFence;
import dev.rewind.dbadapters.api.StatementQuery;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.DatabaseAttachment;
import dev.rewind.volumeset.catalog.PositionSample;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The adapter for MariaDB (and MySQL, through the MariaDB driver): consistent points under
 * {@code BACKUP STAGE BLOCK_COMMIT} (MySQL: {@code FLUSH TABLES WITH READ LOCK}), positions
 * as binlog coordinates {@code mysql-bin.000003:1234} or a GTID, statements found in the
 * binlog with {@code mariadb-binlog}, and where a binlog event lives in its file. The binlog
 * files are read where the server keeps them ({@code @@log_bin_basename}): Rewind runs on the
 * database's host, beside the volumes.
 */
public final class MariaDbAdapter extends JdbcAdapter {
    /** A binlog event header is 19 bytes. */
    static final int EVENT_HEADER_BYTES = 19;
    /** The file system block an expected prefix must not cross. */
    static final int BLOCK_BYTES = 4096;
    private static final int DESCRIPTION_CHARS = 200;

    private final Clock clock;
    /** Where {@code search}, {@code locate} and {@code loggedAfterItsEffects} read the binlog without the server; null: ask the server. */
    private final LogFiles logFiles;

    public MariaDbAdapter(DatabaseAttachment attachment, DataSource pool) {
        this(attachment, pool, Clock.systemUTC());
    }

    /** One that reads the binlog from {@code logFiles}, never asking the server about it. */
    public MariaDbAdapter(DatabaseAttachment attachment, DataSource pool, LogFiles logFiles) {
        this(attachment, pool, Clock.systemUTC(), logFiles);
    }

    /** With the clock that stamps samples. */
    public MariaDbAdapter(DatabaseAttachment attachment, DataSource pool, Clock clock) {
        this(attachment, pool, clock, null);
    }

    private MariaDbAdapter(DatabaseAttachment attachment, DataSource pool, Clock clock, LogFiles logFiles) {
        super(pool, target(attachment.jdbcUrl()));
        this.clock = clock;
        this.logFiles = logFiles;
    }

    /** {@code MariaDB at HOST:PORT/DB} from a JDBC URL, without user, password or options. */
    static String target(String jdbcUrl) {
        String rest = jdbcUrl.replaceFirst("(?i)^jdbc:(mariadb|mysql):(//)?", "");
        int options = rest.indexOf('?');
        if (options >= 0) {
            rest = rest.substring(0, options);
        }
        int at = rest.lastIndexOf('@', rest.indexOf('/') < 0 ? rest.length() : rest.indexOf('/'));
        if (at >= 0) {
            rest = rest.substring(at + 1);
        }
        return "MariaDB at " + rest;
    }

    @Override
    public Engine engine() {
        return Engine.MARIADB;
    }

    @Override
    public String checkConnection() {
        return jdbc.withConnection("connecting", c -> {
            try (var s = c.createStatement(); var rs = s.executeQuery("SELECT VERSION()")) {
                rs.next();
                return rs.getString(1);
            }
        });
    }

    @Override
    public java.util.Map<String, String> serverSettings() {
        return jdbc.withConnection("reading the server's settings", MariaDbServerSettings::read);
    }

    @Override
    public ConsistentPoint consistentPoint(String name, SeqFence fence) throws IOException {
        try {
            return jdbc.withConnection("taking consistent point " + name, c -> {
                ServerBinlog binlog = new ServerBinlog(c, jdbc.target());
                binlog.requireBinlog();
                boolean mariaDb = binlog.isMariaDb();
                String hold = mariaDb ? "BACKUP STAGE BLOCK_COMMIT" : "FLUSH TABLES WITH READ LOCK";
                if (mariaDb) {
                    binlog.execute("BACKUP STAGE START");
                }
                Throwable failure = null;
                try {
                    if (mariaDb) {
                        binlog.execute("BACKUP STAGE FLUSH");
                        binlog.execute("BACKUP STAGE BLOCK_DDL");
                    }
                    binlog.execute(hold);
                    BinlogPosition position = binlog.currentPosition();
                    String gtid = binlog.gtidPosition(mariaDb);
                    long seq = seqNow(fence);
                    return new ConsistentPoint(seq, position.toPosition(), gtid, "commits blocked by " + hold);
                } catch (RuntimeException | SQLException | Error e) {
                    failure = e;
                    throw e;
                } finally {
                    try {
                        binlog.execute(mariaDb ? "BACKUP STAGE END" : "UNLOCK TABLES");
                    } catch (SQLException | RuntimeException e) {
                        if (failure == null) {
                            throw e;
                        }
                        failure.addSuppressed(e);
                    }
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    @Override
    public Optional<PositionSample> sample(String setName, SeqFence fence) throws IOException {
        if (logFiles != null) {
            throw new RewindException("the server is not asked: the binlog is read from " + logFiles.source());
        }
        try {
            return Optional.of(jdbc.withConnection("sampling the binlog position", c -> {
                ServerBinlog binlog = new ServerBinlog(c, jdbc.target());
                boolean mariaDb = binlog.isMariaDb();
                BinlogPosition durable = binlog.currentPosition();
                String gtid = binlog.gtidPosition(mariaDb);
                Instant now = clock.instant();
                long seq = seqNow(fence);
                BinlogPosition bound = binlog.currentPosition();
                long micros = ChronoUnit.MICROS.between(Instant.EPOCH, now);
                return new PositionSample(setName, seq, micros, durable.toString(), durable.order(), bound.toString(), bound.order(), gtid);
            }));
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static long seqNow(SeqFence fence) {
        try {
            return fence.seqNow();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Binlog coordinates {@code FILE:POS}, or a GTID {@code D-S-N}: the start of the last event of its transaction. */
    @Override
    public DatabasePosition parsePosition(String text) {
        String t = text == null ? "" : text.strip();
        if (ServerBinlog.GTID.matcher(t).matches()) {
            if (logFiles != null) {
                try {
                    return BinlogFiles.read(logFiles).endOfTransaction(t).toPosition();
                } catch (IOException e) {
                    throw new RewindException("cannot read the binlog files to look up GTID " + t + " (" + e.getMessage()
                            + "); give binlog coordinates FILE:POS, or start the database");
                }
            }
            return jdbc.withConnection("looking up GTID " + t, c -> new ServerBinlog(c, jdbc.target()).endOfTransaction(t)).toPosition();
        }
        return BinlogPosition.parse(t).toPosition();
    }

    /**
     * Checks, without a server, that {@code text} is binlog coordinates {@code FILE:POS} or a
     * GTID {@code D-S-N}; a MalformedValueException saying how to write them otherwise.
     */
    public static void checkPosition(String text) {
        String t = text == null ? "" : text.strip();
        if (!ServerBinlog.GTID.matcher(t).matches()) {
            BinlogPosition.parse(t);
        }
    }



    @Override
    public FoundStatements search(StatementQuery query) throws IOException {
        StatementPattern pattern = StatementPattern.of(query.sql());
        BinlogFiles files = logFiles != null ? BinlogFiles.read(logFiles) : jdbc.withConnection("listing the binlog files", c -> {
            ServerBinlog binlog = new ServerBinlog(c, jdbc.target());
            return new BinlogFiles(binlog.binlogDir(), binlog.binlogFiles());
        });
        if (files.names().isEmpty()) {
            return new FoundStatements(List.of(), null, null);
        }
        String first = files.names().get(0);
        String last = files.names().get(files.names().size() - 1);
        List<Long> bounds = logFiles == null ? null : BinlogEvents.boundaries(files.dir().resolve(last));
        // read at least this far: the reader reads each file to its end; without the server, up to its last whole event
        long end = bounds == null ? Files.size(files.dir().resolve(last)) : bounds.get(bounds.size() - 1);
        BinlogReader reader = BinlogReader.find();
        List<FoundStatement> found = new ArrayList<>();
        for (String name : files.names()) {
            reader.read(files.dir().resolve(name), name, s -> {
                if (s.mayStartAtOrAfter(query.since()) && s.startsBefore(query.until()) && pattern.matches(s.text())) {
                    found.add(new FoundStatement(s.position().toPosition(), s.time(), s.gtid(), oneLine(s.text())));
                }
            });
        }
        return new FoundStatements(found, new BinlogPosition(first, BinlogEvents.MAGIC_BYTES).toPosition(),
                new BinlogPosition(last, end).toPosition());
    }

    private static String oneLine(String text) {
        String line = text.replaceAll("\\s+", " ").strip();
        return line.length() <= DESCRIPTION_CHARS ? line : line.substring(0, DESCRIPTION_CHARS - 3) + "...";
    }

    /**
     * The binlog file in the server's binlog dir, the position's offset, and the event's first
     * bytes as the file holds them now: up to its 19-byte header, never past the end of its
     * 4096-byte block nor of the file. Empty when the file is gone or ends before the offset.
     */
    /**
     * MariaDB writes a DDL statement (TRUNCATE, DROP TABLE, ALTER) to the binlog after the
     * engine has carried it out, so its effect is on disk before its event: for such a
     * statement, the last event before it.
     */
    @Override
    public Optional<DatabasePosition> loggedAfterItsEffects(DatabasePosition position) throws IOException {
        BinlogPosition at = BinlogPosition.parse(position.text());
        if (logFiles != null) {
            return Optional.ofNullable(BinlogFiles.read(logFiles).lastEventBeforeStandaloneStatement(at)).map(BinlogPosition::toPosition);
        }
        BinlogPosition before = jdbc.withConnection("reading the binlog's events",
                c -> new ServerBinlog(c, jdbc.target()).lastEventBeforeStandaloneStatement(at));
        return Optional.ofNullable(before).map(BinlogPosition::toPosition);
    }

    @Override
    public Optional<LogLocation> locate(DatabasePosition position) throws IOException {
        BinlogPosition at = BinlogPosition.parse(position.text());
        Path dir = logFiles != null ? BinlogFiles.read(logFiles).dir()
                : jdbc.withConnection("finding the binlog dir", c -> new ServerBinlog(c, jdbc.target()).binlogDir());
        Path file = dir.resolve(at.file());
        int wanted = (int) Math.min(EVENT_HEADER_BYTES, BLOCK_BYTES - at.offsetBytes() % BLOCK_BYTES);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long available = ch.size() - at.offsetBytes();
            if (available <= 0) {
                return Optional.empty();
            }
            BinlogEvents.requireBoundary(at, file);
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(wanted, available));
            while (buf.hasRemaining()) {
                if (ch.read(buf, at.offsetBytes() + buf.position()) < 0) {
                    break;
                }
            }
            byte[] expected = new byte[buf.position()];
            buf.flip().get(expected);
            return Optional.of(new LogLocation(at.toPosition(), file, at.offsetBytes(), expected, true));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            if (!Files.exists(file)) {
                return Optional.empty();
            }
            throw new IOException("cannot read the binlog file " + file + " at offset " + at.offsetBytes() + ": " + e.getMessage(), e);
        }
    }

}
