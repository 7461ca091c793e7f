package dev.rewind.dbadapters.postgresql;

import dev.rewind.dbadapters.api.ConnectionPool;
import dev.rewind.dbadapters.api.ConsistentPoint;
import dev.rewind.dbadapters.api.DatabaseAdapter;
import dev.rewind.dbadapters.api.DatabasePosition;
import dev.rewind.dbadapters.api.JdbcAdapter;
import dev.rewind.dbadapters.api.Engine;
import dev.rewind.dbadapters.api.FoundStatement;
import dev.rewind.dbadapters.api.FoundStatements;
import dev.rewind.dbadapters.api.Jdbc;
import dev.rewind.dbadapters.api.LogFiles;
import dev.rewind.dbadapters.api.LogLocation;
import dev.rewind.dbadapters.api.SeqFence;
import dev.rewind.dbadapters.api.StatementQuery;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.DatabaseAttachment;
import dev.rewind.volumeset.catalog.PositionSample;
import dev.rewind.volumeset.catalog.RelationNames;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import javax.sql.DataSource;

/**
 * The {@link DatabaseAdapter} for PostgreSQL: a consistent bookmark is a restore point of the
 * bookmark's name followed by a CHECKPOINT; a sample reads the WAL flush LSN before the seq and
 * the insert LSN after it; positions are LSNs; {@code find} reads the WAL files with
 * {@code pg_waldump} (see {@link WalStatements} for what it recognises); {@code locate} maps an
 * LSN to its segment file and offset. It owns its pool and closes it.
 */
public final class PostgresAdapter extends JdbcAdapter {
    /** The bytes a WAL record's location carries: at most this many, never past the end of its file system block. */
    static final int EXPECTED_BYTES = 24;
    static final int FILE_SYSTEM_BLOCK_BYTES = 4096;
    private static final String INSUFFICIENT_PRIVILEGE = "42501";

    private final Clock clock;
    /** Where {@code search} and {@code locate} read the WAL without the server; null: ask the server. */
    private final LogFiles logFiles;
    /** What {@link #logFiles} say of the WAL, once read. */
    private WalServer walFiles;

    public PostgresAdapter(DatabaseAttachment attachment, DataSource pool) {
        this(attachment, pool, Clock.systemUTC(), null);
    }

    /** One that reads the WAL from {@code logFiles}, never asking the server about it. */
    public PostgresAdapter(DatabaseAttachment attachment, DataSource pool, LogFiles logFiles) {
        this(attachment, pool, Clock.systemUTC(), logFiles);
    }

    PostgresAdapter(DatabaseAttachment attachment, DataSource pool, Clock clock) {
        this(attachment, pool, clock, null);
    }

    private PostgresAdapter(DatabaseAttachment attachment, DataSource pool, Clock clock, LogFiles logFiles) {
        super(pool, targetOf(attachment.jdbcUrl()));
        this.clock = clock;
        this.logFiles = logFiles;
    }

    /** {@code PostgreSQL at 127.0.0.1:5433/shop} from a JDBC URL; never its parameters (a password may be among them). */
    static String targetOf(String jdbcUrl) {
        Properties p = org.postgresql.Driver.parseURL(jdbcUrl, new Properties());
        if (p == null) {
            int q = jdbcUrl.indexOf('?');
            return "PostgreSQL at " + (q < 0 ? jdbcUrl : jdbcUrl.substring(0, q));
        }
        String[] hosts = p.getProperty("PGHOST", "localhost").split(",");
        String[] ports = p.getProperty("PGPORT", "5432").split(",");
        List<String> at = new ArrayList<>();
        for (int i = 0; i < hosts.length; i++) {
            at.add(hosts[i] + ":" + ports[Math.min(i, ports.length - 1)]);
        }
        return "PostgreSQL at " + String.join(",", at) + "/" + p.getProperty("PGDBNAME", "");
    }

    @Override
    public Engine engine() {
        return Engine.POSTGRESQL;
    }

    @Override
    public String checkConnection() {
        return jdbc.withConnection("checking the connection", c -> queryText(c, "select version()"));
    }

    @Override
    public ConsistentPoint consistentPoint(String name, SeqFence fence) throws IOException {
        return withFence("taking consistent bookmark '" + name + "'", c -> {
            Lsn point;
            Lsn redo;
            try {
                try (PreparedStatement s = c.prepareStatement("select pg_create_restore_point(?)::text")) {
                    s.setString(1, name);
                    point = Lsn.parse(single(s.executeQuery()));
                }
                try (Statement s = c.createStatement()) {
                    s.execute("CHECKPOINT");
                }
                redo = Lsn.parse(queryText(c, "select redo_lsn::text from pg_control_checkpoint()"));
            } catch (SQLException e) {
                if (INSUFFICIENT_PRIVILEGE.equals(e.getSQLState())) {
                    String role = c.getMetaData().getUserName();
                    throw new RewindException("role " + role + " may not take a consistent bookmark on " + jdbc.target() + " ("
                            + ConnectionPool.rootMessage(e) + "); connect as a superuser, or as one run: GRANT pg_checkpoint TO " + role
                            + "; GRANT EXECUTE ON FUNCTION pg_create_restore_point(text) TO " + role
                            + "; GRANT EXECUTE ON FUNCTION pg_control_checkpoint() TO " + role, e);
                }
                throw e;
            }
            long seq = seqNow(fence);
            return new ConsistentPoint(seq, point.position(), null,
                    "restore point '" + name + "' ends at " + point + "; checkpoint redo " + redo);
        });
    }

    @Override
    public Optional<PositionSample> sample(String setName, SeqFence fence) throws IOException {
        if (logFiles != null) {
            throw new RewindException("the server is not asked: the WAL is read from " + logFiles.source());
        }
        return withFence("sampling the WAL position", c -> {
            if ("t".equals(queryText(c, "select pg_is_in_recovery()::text"))) {
                throw new RewindException(jdbc.target() + " is in recovery (a standby, or still replaying WAL): its WAL positions "
                        + "cannot be sampled; attach the primary, or wait until recovery has finished");
            }
            Lsn durable = Lsn.parse(queryText(c, "select pg_current_wal_flush_lsn()::text"));
            long seq = seqNow(fence);
            Instant at = clock.instant();
            Lsn bound = Lsn.parse(queryText(c, "select pg_current_wal_insert_lsn()::text"));
            long micros = ChronoUnit.MICROS.between(Instant.EPOCH, at);
            return Optional.of(new PositionSample(setName, seq, micros, durable.toString(), durable.value(), bound.toString(),
                    bound.value(), null));
        });
    }

    /**
     * Files of user tables, their indexes and TOAST tables and indexes, each with the table's
     * qualified name; the insert LSN comes from an InitPlan of the same statement, so it is
     * read after the snapshot: a commit at or after it is not in the mapping. One row with
     * no file when there is no user table.
     */
    private static final String RELATION_NAMES = "with t as (select c.oid, c.reltoastrelid, n.nspname || '.' || c.relname as name"
            + " from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind in ('r', 'm')"
            + " and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_toast%'"
            + " and n.nspname not like 'pg\\_temp\\_%'),"
            + " f as (select t.oid as rel, t.name from t"
            + " union all select t.reltoastrelid, t.name from t where t.reltoastrelid <> 0"
            + " union all select i.indexrelid, t.name from pg_index i join t on i.indrelid = t.oid"
            + " union all select i.indexrelid, t.name from pg_index i join t on i.indrelid = t.reltoastrelid)"
            + " select (select pg_current_wal_insert_lsn()::text), pg_relation_filepath(f.rel), f.name"
            + " from (select 1) as one left join f on true";

    @Override
    public Optional<RelationNames> relationNames(String setName, SeqFence fence) throws IOException {
        return withFence("reading the relation names", c -> {
            long seq = seqNow(fence);
            Instant at = clock.instant();
            String lsn = null;
            java.util.Map<String, String> names = new java.util.HashMap<>();
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(RELATION_NAMES)) {
                while (rs.next()) {
                    lsn = rs.getString(1);
                    if (rs.getString(2) != null) {
                        names.put(rs.getString(2), rs.getString(3));
                    }
                }
            }
            Lsn read = Lsn.parse(lsn);
            return Optional.of(new RelationNames(setName, seq, 0, ChronoUnit.MICROS.between(Instant.EPOCH, at), read.toString(),
                    read.value(), names));
        });
    }

    @Override
    public DatabasePosition parsePosition(String text) {
        return checkPosition(text);
    }

    /** {@code text} as an LSN, read without a server; a MalformedValueException saying how to write one otherwise. */
    public static DatabasePosition checkPosition(String text) {
        return Lsn.parse(text).position();
    }

    @Override
    public java.util.Map<String, String> serverSettings() {
        return jdbc.withConnection("reading the server's settings", PostgresServerSettings::read);
    }



    @Override
    public FoundStatements search(StatementQuery query) throws IOException {
        StatementPattern pattern = query.xid() != null && (query.sql() == null || query.sql().isBlank()) ? StatementPattern.ANY
                : StatementPattern.parse(query.sql());
        WalServer server = walServer("finding where the WAL is");
        Path walDir = server.walDirectory();
        WalDump dump = WalDump.require(server.majorVersion());
        boolean countRows = pattern.kind().changesRows();
        List<WalCommit> commits = new ArrayList<>();
        List<FoundStatement> rowChanges = new ArrayList<>();
        // updates and deletes are named through the sampled names alone, as the WAL streams by: there may be very many
        WalStatements byRows = new WalStatements(pattern, server.walHasTruncateRecords(), WalStatements.RelationNames.NONE,
                query.relationNames());
        WalTransactions transactions = new WalTransactions(c -> {
            boolean inWindow = (query.since() == null || !c.time().isBefore(query.since())) && (query.until() == null || c.time().isBefore(query.until()));
            if (inWindow && (query.xid() == null || c.xid() == query.xid())) {
                if (countRows) {
                    byRows.match(c).ifPresent(rowChanges::add);
                } else {
                    commits.add(c);
                }
            }
        }, countRows);
        Optional<Lsn> start;
        try {
            start = WalRuns.read(dump, walDir, query.walArchive(), server.timeline(), server.segmentSizeBytes(), server.flushLsn(), transactions);
        } catch (java.nio.file.AccessDeniedException e) {
            throw new RewindException("cannot read the WAL directory " + walDir + " (" + e.getMessage()
                    + "); run db find on the database's host as a user that can read it");
        }
        if (start.isEmpty()) {
            return new FoundStatements(List.of(), null, null);
        }
        if (countRows || commits.isEmpty()) {
            return new FoundStatements(rowChanges, start.get().position(), server.flushLsn().position());
        }
        List<FoundStatement> found;
        if (logFiles != null) {
            found = match(new WalStatements(pattern, server.walHasTruncateRecords(), NO_CATALOG, query.relationNames()), commits);
        } else {
            found = jdbc.withConnection("naming the relations found in the WAL", c -> match(new WalStatements(pattern,
                    server.walHasTruncateRecords(), new CatalogNames(c), query.relationNames()), commits));
        }
        return new FoundStatements(found, start.get().position(), server.flushLsn().position());
    }

    private static List<FoundStatement> match(WalStatements statements, List<WalCommit> commits) {
        List<FoundStatement> matches = new ArrayList<>();
        for (WalCommit commit : commits) {
            statements.match(commit).ifPresent(matches::add);
        }
        return matches;
    }

    /** What the server says of its WAL, or, reading the files, what they say (read once: no server changes them). */
    private WalServer walServer(String doing) throws IOException {
        if (logFiles == null) {
            return jdbc.withConnection(doing, WalServer::read);
        }
        if (walFiles == null) {
            walFiles = WalFiles.read(logFiles);
        }
        return walFiles;
    }

    @Override
    public Optional<LogLocation> locate(DatabasePosition position) throws IOException {
        Lsn lsn = new Lsn(position.order());
        WalServer server = walServer("locating WAL position " + lsn);
        if (lsn.compareTo(server.flushLsn()) > 0) {
            return Optional.empty(); // not on disk yet: no write has put it there
        }
        // the segment of the server's timeline that holds the LSN (pg_walfile_name_offset would name the previous one for an
        // LSN exactly on a segment boundary)
        long segmentSize = server.segmentSizeBytes();
        String fileName = WalSegments.fileName(server.timeline(), Long.divideUnsigned(lsn.value(), segmentSize), segmentSize);
        long offset = Long.remainderUnsigned(lsn.value(), segmentSize);
        Path file = server.walDirectory().resolve(fileName);
        int wanted = (int) Math.min(EXPECTED_BYTES, FILE_SYSTEM_BLOCK_BYTES - offset % FILE_SYSTEM_BLOCK_BYTES);
        ByteBuffer bytes = ByteBuffer.allocate(wanted);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (bytes.hasRemaining() && ch.read(bytes, offset + bytes.position()) > 0) {
                // read until full or end of file
            }
        } catch (NoSuchFileException e) {
            return Optional.empty(); // recycled or archived away
        }
        if (bytes.position() == 0) {
            return Optional.empty();
        }
        return Optional.of(new LogLocation(position, file, offset, Arrays.copyOf(bytes.array(), bytes.position()), false));
    }


    /** Work on one connection that calls the set's fence; its IOException comes out as itself. */
    private <T> T withFence(String doing, Jdbc.SqlWork<T> work) throws IOException {
        try {
            return jdbc.withConnection(doing, work);
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

    static String queryText(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            return single(s.executeQuery(sql));
        }
    }

    private static String single(ResultSet rs) throws SQLException {
        try (rs) {
            rs.next();
            return rs.getString(1);
        }
    }

    /**
     * What {@code find} and {@code locate} need to know about the server's WAL, read on one
     * connection ({@link #read}) or from the files when the server does not answer
     * ({@link WalFiles}, where {@code flushLsn} is the end of the valid records).
     */
    record WalServer(Path walDirectory, int timeline, long segmentSizeBytes, Lsn flushLsn, int majorVersion, boolean walHasTruncateRecords) {

        static WalServer read(Connection c) throws SQLException {
            String dataDir = queryText(c, "select max(setting) from pg_settings where name = 'data_directory'");
            if (dataDir == null) {
                String role = c.getMetaData().getUserName();
                throw new RewindException("role " + role + " may not see where the data directory is; as a superuser run: GRANT "
                        + "pg_read_all_settings TO " + role);
            }
            Path wal = Path.of(dataDir, "pg_wal");
            Path walDir;
            try {
                walDir = wal.toRealPath();
            } catch (IOException e) {
                throw new RewindException("cannot read the WAL directory " + wal + " (" + e.getMessage()
                        + "); run this on the database's host as a user that can read it");
            }
            if (!Files.isDirectory(walDir)) {
                throw new RewindException("the WAL directory " + wal + " is not a directory here; run this on the database's host");
            }
            if ("t".equals(queryText(c, "select pg_is_in_recovery()::text"))) {
                throw new RewindException("the server is in recovery (a standby, or still replaying WAL); ask the primary");
            }
            String walFile = queryText(c, "select pg_walfile_name(pg_current_wal_lsn())");
            long segmentSize = Long.parseLong(queryText(c, "select setting from pg_settings where name = 'wal_segment_size'"));
            Lsn flush = Lsn.parse(queryText(c, "select pg_current_wal_flush_lsn()::text"));
            int major = Integer.parseInt(queryText(c, "select current_setting('server_version_num')")) / 10_000;
            boolean logical = "logical".equals(queryText(c, "select current_setting('wal_level')"));
            return new WalServer(walDir, WalSegments.timelineOf(walFile), segmentSize, flush, major, logical);
        }
    }

    /** No live catalog to ask (the server is not running): names come from the sampled ones alone. */
    private static final WalStatements.RelationNames NO_CATALOG = new WalStatements.RelationNames() {
        @Override
        public java.util.Map<Long, String> ofRelids(List<Long> relids) {
            return java.util.Map.of();
        }

        @Override
        public Optional<String> ofFile(String path) {
            return Optional.empty();
        }
    };

    /** Names from the live catalog of the database the adapter is connected to. */
    private static final class CatalogNames implements WalStatements.RelationNames {
        private final Connection c;

        CatalogNames(Connection c) {
            this.c = c;
        }

        @Override
        public java.util.Map<Long, String> ofRelids(List<Long> relids) {
            java.util.Map<Long, String> names = new java.util.HashMap<>();
            try (PreparedStatement s = c.prepareStatement("select c.oid::bigint, n.nspname || '.' || c.relname from pg_class c "
                    + "join pg_namespace n on n.oid = c.relnamespace where c.oid::bigint = any(?)")) {
                s.setArray(1, c.createArrayOf("bigint", relids.toArray()));
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        names.put(rs.getLong(1), rs.getString(2));
                    }
                }
            } catch (SQLException e) {
                throw new RewindException("cannot read relation names: " + ConnectionPool.rootMessage(e), e);
            }
            return names;
        }

        @Override
        public Optional<String> ofFile(String path) {
            String[] parts = path.split("/");
            long tablespace;
            if (parts.length == 3 && parts[0].equals("base")) {
                tablespace = 0;
            } else if (parts.length == 5 && parts[0].equals("pg_tblspc")) {
                tablespace = Long.parseLong(parts[1]);
            } else {
                return Optional.empty();
            }
            try (PreparedStatement s = c.prepareStatement("select n.nspname || '.' || c.relname from pg_class c "
                    + "join pg_namespace n on n.oid = c.relnamespace join pg_database d on d.datname = current_database() "
                    + "where d.oid::bigint = ? and c.oid = pg_filenode_relation(?::oid, ?::oid) and c.relkind in ('r', 'p', 'm')")) {
                s.setLong(1, Long.parseLong(parts[parts.length - 2]));
                s.setLong(2, tablespace);
                s.setLong(3, Long.parseLong(parts[parts.length - 1]));
                try (ResultSet rs = s.executeQuery()) {
                    return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
                }
            } catch (SQLException e) {
                throw new RewindException("cannot read relation names: " + ConnectionPool.rootMessage(e), e);
            }
        }
    }
}
