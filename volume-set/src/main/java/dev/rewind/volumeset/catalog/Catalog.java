package dev.rewind.volumeset.catalog;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.Times;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * The catalog of PVs, VGs, LVs, sets (with their capture settings), bookmarks, restores,
 * transactions and attached databases ({@link DatabaseRecords}), through JDBC and HikariCP,
 * its schema migrated by Flyway at open. Every change that spans rows is one transaction,
 * durable when the method that made it returns.
 */
public final class Catalog implements AutoCloseable {

    private final HikariDataSource dataSource;
    private final CatalogConfig config;

    private Catalog(HikariDataSource dataSource, CatalogConfig config) {
        this.dataSource = dataSource;
        this.config = config;
    }

    /** Connects (failing fast with a clear message if the database cannot be reached) and migrates the schema. */
    public static Catalog open(CatalogConfig config) {
        HikariConfig hikari = new HikariConfig();
        hikari.setJdbcUrl(config.jdbcUrl());
        if (config.user() != null) {
            hikari.setUsername(config.user());
        }
        if (config.password() != null) {
            hikari.setPassword(config.password());
        }
        if (config.isH2() && !config.jdbcUrl().toUpperCase(java.util.Locale.ROOT).contains("DB_CLOSE_ON_EXIT")) {
            // H2's own shutdown hook would close the database under the daemon's scheduler and
            // shutdown hook, which still commit; the catalog is closed by close(), and every
            // commit is on disk already (WRITE_DELAY=0).
            hikari.addDataSourceProperty("DB_CLOSE_ON_EXIT", "FALSE");
        }
        hikari.setMaximumPoolSize(4);
        hikari.setMinimumIdle(0);
        hikari.setPoolName("rewind-catalog");
        hikari.setConnectionTimeout(Math.max(250, config.connectTimeout().toMillis()));
        hikari.setInitializationFailTimeout(Math.max(1, config.connectTimeout().toMillis()));
        HikariDataSource ds;
        try {
            ds = new HikariDataSource(hikari);
        } catch (RuntimeException e) {
            throw new RewindException("cannot reach the catalog at " + config.redactedUrl() + ": " + rootMessage(e)
                    + "; check the URL (rewind init --catalog) and that the database is running", e);
        }
        boolean migrated;
        try {
            migrated = CatalogSchema.migrateIfBehind(ds);
        } catch (RuntimeException e) {
            ds.close();
            throw new RewindException("cannot prepare the catalog at " + config.redactedUrl() + ": " + rootMessage(e), e);
        }
        Catalog catalog = new Catalog(ds, config);
        if (migrated || config.isH2()) {
            // A new or migrated schema is forced like any other commit. H2 also writes to its
            // file when it opens one, without forcing it; a power cut could then keep part of
            // those writes and lose the rest, and the store would not open again. So what the
            // open wrote is forced before anything relies on the catalog.
            catalog.inTransaction(c -> null);
        }
        return catalog;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String msg = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        msg = CatalogConfig.redact(msg.split("\\R", 2)[0]);
        return msg;
    }

    public CatalogConfig config() {
        return config;
    }

    /**
     * The catalog's connection pool, for a component that keeps its own tables in the catalog
     * database (the scheduler's job store). Its users return each connection they take and
     * never close the pool: {@link #close()} does.
     */
    public DataSource dataSource() {
        return dataSource;
    }

    /** The databases attached to sets, and their sampled positions. */
    public DatabaseRecords databases() {
        return new DatabaseRecords(this);
    }

    /** The sandboxes of sets: writable throwaway views of a past seq. */
    public SandboxRecords sandboxes() {
        return new SandboxRecords(this);
    }

    @Override
    public void close() {
        dataSource.close();
    }

    @FunctionalInterface
    interface SqlWork<T> {
        T run(Connection c) throws SQLException;
    }

    /** Runs work that changes the catalog, and returns once its commit is durable. */
    <T> T inTransaction(SqlWork<T> work) {
        return transaction(work, true);
    }

    /** Runs work that only reads: no force, so read-only commands pay no fsync. */
    <T> T read(SqlWork<T> work) {
        return transaction(work, false);
    }

    private <T> T transaction(SqlWork<T> work, boolean writes) {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                if (writes) {
                    makeDurable(c);
                }
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new RewindException("catalog error at " + config.redactedUrl() + ": " + rootMessage(e), e);
        }
    }

    /**
     * Forces what was committed to the disk. H2 with WRITE_DELAY=0 writes each commit at
     * once but forces its file only when the store closes, which a daemon never does; its
     * {@code CHECKPOINT SYNC} forces it (a transaction that only read
     * skips it). PostgreSQL commits are durable by themselves.
     */
    private void makeDurable(Connection c) throws SQLException {
        if (config.isH2()) {
            try (Statement s = c.createStatement()) {
                s.execute("CHECKPOINT SYNC");
            }
        }
    }

    private static long nowMicros() {
        return Times.micros(java.time.Instant.now());
    }

    // ---- physical volumes ----

    public void insertPv(PvRecord pv) {
        inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "insert into physical_volume(name, uuid, path, size_bytes, data_offset_bytes, vg_name, pv_index, created_at_micros) values (?,?,?,?,?,?,?,?)")) {
                ps.setString(1, pv.name());
                ps.setString(2, pv.uuid().toString());
                ps.setString(3, pv.path().toString());
                ps.setLong(4, pv.sizeBytes());
                ps.setLong(5, pv.dataOffsetBytes());
                ps.setString(6, pv.vgName());
                ps.setInt(7, pv.pvIndex());
                ps.setLong(8, nowMicros());
                ps.executeUpdate();
            }
            return null;
        });
    }

    public Optional<PvRecord> findPv(String name) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement(PV_SELECT + " where name = ?")) {
                ps.setString(1, name);
                List<PvRecord> list = readPvs(ps);
                return list.isEmpty() ? Optional.empty() : Optional.of(list.get(0));
            }
        });
    }

    public Optional<PvRecord> findPvByPath(Path path) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement(PV_SELECT + " where path = ?")) {
                ps.setString(1, path.toString());
                List<PvRecord> list = readPvs(ps);
                return list.isEmpty() ? Optional.empty() : Optional.of(list.get(0));
            }
        });
    }

    public List<PvRecord> listPvs() {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement(PV_SELECT + " order by name")) {
                return readPvs(ps);
            }
        });
    }

    public List<PvRecord> pvsOfVg(String vgName) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement(PV_SELECT + " where vg_name = ? order by pv_index")) {
                ps.setString(1, vgName);
                return readPvs(ps);
            }
        });
    }

    private static final String PV_SELECT =
            "select name, uuid, path, size_bytes, data_offset_bytes, vg_name, pv_index from physical_volume";

    private static List<PvRecord> readPvs(PreparedStatement ps) throws SQLException {
        List<PvRecord> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new PvRecord(rs.getString(1), UUID.fromString(rs.getString(2)), Path.of(rs.getString(3)),
                        rs.getLong(4), rs.getLong(5), rs.getString(6), rs.getInt(7)));
            }
        }
        return out;
    }

    // ---- volume groups ----

    /** Creates the VG and assigns the PVs to it, in order, in one transaction. */
    public void insertVg(VgRecord vg, List<String> pvNames) {
        inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "insert into volume_group(name, uuid, extent_size_bytes, created_at_micros) values (?,?,?,?)")) {
                ps.setString(1, vg.name());
                ps.setString(2, vg.uuid().toString());
                ps.setLong(3, vg.extentSizeBytes());
                ps.setLong(4, nowMicros());
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "update physical_volume set vg_name = ?, pv_index = ? where name = ? and vg_name is null")) {
                int index = 0;
                for (String pv : pvNames) {
                    ps.setString(1, vg.name());
                    ps.setInt(2, index++);
                    ps.setString(3, pv);
                    if (ps.executeUpdate() != 1) {
                        throw new RewindException("PV " + pv + " is already in a volume group");
                    }
                }
            }
            return null;
        });
    }

    public Optional<VgRecord> findVg(String name) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "select name, uuid, extent_size_bytes from volume_group where name = ?")) {
                ps.setString(1, name);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next()
                            ? Optional.of(new VgRecord(rs.getString(1), UUID.fromString(rs.getString(2)), rs.getLong(3)))
                            : Optional.empty();
                }
            }
        });
    }

    public List<VgRecord> listVgs() {
        return read(c -> {
            List<VgRecord> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "select name, uuid, extent_size_bytes from volume_group order by name");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new VgRecord(rs.getString(1), UUID.fromString(rs.getString(2)), rs.getLong(3)));
                }
            }
            return out;
        });
    }

    // ---- logical volumes ----

    public void insertLv(LvRecord lv) {
        inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "insert into logical_volume(vg_name, name, uuid, size_bytes, created_at_micros) values (?,?,?,?,?)")) {
                ps.setString(1, lv.vgName());
                ps.setString(2, lv.name());
                ps.setString(3, lv.uuid().toString());
                ps.setLong(4, lv.sizeBytes());
                ps.setLong(5, nowMicros());
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "insert into lv_segment(vg_name, lv_name, seg_index, pv_name, start_extent, extent_count) values (?,?,?,?,?,?)")) {
                int index = 0;
                for (LvRecord.Segment s : lv.segments()) {
                    ps.setString(1, lv.vgName());
                    ps.setString(2, lv.name());
                    ps.setInt(3, index++);
                    ps.setString(4, s.pvName());
                    ps.setLong(5, s.startExtent());
                    ps.setLong(6, s.extentCount());
                    ps.executeUpdate();
                }
            }
            return null;
        });
    }

    public List<LvRecord> lvsOfVg(String vgName) {
        return read(c -> {
            List<LvRecord> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "select name, uuid, size_bytes from logical_volume where vg_name = ? order by name")) {
                ps.setString(1, vgName);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new LvRecord(vgName, rs.getString(1), UUID.fromString(rs.getString(2)), rs.getLong(3),
                                List.of()));
                    }
                }
            }
            List<LvRecord> withSegments = new ArrayList<>();
            for (LvRecord lv : out) {
                withSegments.add(new LvRecord(lv.vgName(), lv.name(), lv.uuid(), lv.sizeBytes(), segmentsOf(c, vgName, lv.name())));
            }
            return withSegments;
        });
    }

    public Optional<LvRecord> findLv(String vgName, String lvName) {
        return lvsOfVg(vgName).stream().filter(lv -> lv.name().equals(lvName)).findFirst();
    }

    private static List<LvRecord.Segment> segmentsOf(Connection c, String vgName, String lvName) throws SQLException {
        List<LvRecord.Segment> segments = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "select pv_name, start_extent, extent_count from lv_segment where vg_name = ? and lv_name = ? order by seg_index")) {
            ps.setString(1, vgName);
            ps.setString(2, lvName);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    segments.add(new LvRecord.Segment(rs.getString(1), rs.getLong(2), rs.getLong(3)));
                }
            }
        }
        return segments;
    }

    // ---- production volume sets ----

    public void insertSet(SetRecord set) {
        inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "insert into volume_set(name, uuid, secondary_dir, region_size_bytes, created_at_micros) values (?,?,?,?,?)")) {
                ps.setString(1, set.name());
                ps.setString(2, set.uuid().toString());
                ps.setString(3, set.secondaryDir().toString());
                ps.setLong(4, set.regionSizeBytes());
                ps.setLong(5, nowMicros());
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "insert into set_member(set_name, member_index, member_name, kind, vg_name, lv_name, pv_name, size_bytes) values (?,?,?,?,?,?,?,?)")) {
                for (MemberRecord m : set.members()) {
                    ps.setString(1, set.name());
                    ps.setInt(2, m.index());
                    ps.setString(3, m.name());
                    ps.setString(4, m.kind().name());
                    ps.setString(5, m.vgName());
                    ps.setString(6, m.lvName());
                    ps.setString(7, m.pvName());
                    ps.setLong(8, m.sizeBytes());
                    ps.executeUpdate();
                }
            }
            return null;
        });
    }

    public void deleteSet(String name) {
        inTransaction(c -> {
            for (String table : List.of("bookmark", "restore_event", "transactions", "set_settings",
                    "db_position", "db_relation_name", "db_relation_map", "db_mount", "db_validation", "db_attachment", "db_server_setting",
                    "sandbox", "set_member")) {
                try (PreparedStatement ps = c.prepareStatement("delete from " + table + " where set_name = ?")) {
                    ps.setString(1, name);
                    ps.executeUpdate();
                }
            }
            try (PreparedStatement ps = c.prepareStatement("delete from volume_set where name = ?")) {
                ps.setString(1, name);
                ps.executeUpdate();
            }
            return null;
        });
    }

    public Optional<SetRecord> findSet(String name) {
        return listSets().stream().filter(s -> s.name().equals(name)).findFirst();
    }

    public List<SetRecord> listSets() {
        return read(c -> {
            List<SetRecord> sets = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "select name, uuid, secondary_dir, region_size_bytes from volume_set order by name");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    sets.add(new SetRecord(rs.getString(1), UUID.fromString(rs.getString(2)), Path.of(rs.getString(3)),
                            rs.getLong(4), List.of()));
                }
            }
            List<SetRecord> out = new ArrayList<>();
            for (SetRecord s : sets) {
                List<MemberRecord> members = new ArrayList<>();
                try (PreparedStatement ps = c.prepareStatement(
                        "select member_index, member_name, kind, vg_name, lv_name, pv_name, size_bytes from set_member where set_name = ? order by member_index")) {
                    ps.setString(1, s.name());
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            members.add(new MemberRecord(rs.getInt(1), rs.getString(2), MemberRecord.Kind.valueOf(rs.getString(3)),
                                    rs.getString(4), rs.getString(5), rs.getString(6), rs.getLong(7)));
                        }
                    }
                }
                out.add(new SetRecord(s.name(), s.uuid(), s.secondaryDir(), s.regionSizeBytes(), members));
            }
            return out;
        });
    }

    /** The set that holds this LV or whole PV as a member, if any. */
    public Optional<String> setHolding(String vgName, String lvName, String pvName) {
        return read(c -> {
            String sql = lvName != null
                    ? "select set_name from set_member where vg_name = ? and lv_name = ?"
                    : "select set_name from set_member where pv_name = ?";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                if (lvName != null) {
                    ps.setString(1, vgName);
                    ps.setString(2, lvName);
                } else {
                    ps.setString(1, pvName);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
                }
            }
        });
    }

    // ---- bookmarks ----

    /**
     * Every seq of the set that a sandbox reads or a bookmark names: the set's history must keep
     * each of them placeable (see {@code CapturedSet#historyPins}).
     */
    public long[] historyPins(String setName) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "select seq from sandbox where set_name = ? union select seq from bookmark where set_name = ?")) {
                ps.setString(1, setName);
                ps.setString(2, setName);
                try (ResultSet rs = ps.executeQuery()) {
                    List<Long> seqs = new ArrayList<>();
                    while (rs.next()) {
                        seqs.add(rs.getLong(1));
                    }
                    return seqs.stream().mapToLong(Long::longValue).toArray();
                }
            }
        });
    }

    /** A point that a bookmark or a sandbox of the set names, for retention: {@code kind} is bookmark, consistent or sandbox. */
    public record PinnedPoint(long seq, String kind, long madeMicros, String name) {
    }

    /** The points the set's bookmarks and sandboxes name. */
    public List<PinnedPoint> pinnedPoints(String setName) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "select seq, case when consistent then 'consistent' else 'bookmark' end, created_at_micros, name from bookmark"
                            + " where set_name = ? union all select seq, 'sandbox', created_at_micros, name from sandbox where set_name = ?")) {
                ps.setString(1, setName);
                ps.setString(2, setName);
                try (ResultSet rs = ps.executeQuery()) {
                    List<PinnedPoint> out = new ArrayList<>();
                    while (rs.next()) {
                        out.add(new PinnedPoint(rs.getLong(1), rs.getString(2), rs.getLong(3), rs.getString(4)));
                    }
                    return out;
                }
            }
        });
    }

    public void insertBookmark(BookmarkRecord b) {
        inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "insert into bookmark(set_name, name, seq, created_at_micros, consistent, db_position) values (?,?,?,?,?,?)")) {
                ps.setString(1, b.setName());
                ps.setString(2, b.name());
                ps.setLong(3, b.seq());
                ps.setLong(4, b.createdAtMicros());
                ps.setBoolean(5, b.consistent());
                ps.setString(6, b.dbPosition());
                ps.executeUpdate();
            }
            return null;
        });
    }

    /** Removes a bookmark; false if the set had none of that name. */
    public boolean deleteBookmark(String setName, String name) {
        return inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("delete from bookmark where set_name = ? and name = ?")) {
                ps.setString(1, setName);
                ps.setString(2, name);
                return ps.executeUpdate() > 0;
            }
        });
    }

    public Optional<BookmarkRecord> findBookmark(String setName, String name) {
        return listBookmarks(setName).stream().filter(b -> b.name().equals(name)).findFirst();
    }

    /** Bookmarks of a set, newest seq first. */
    public List<BookmarkRecord> listBookmarks(String setName) {
        return read(c -> {
            List<BookmarkRecord> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "select name, seq, created_at_micros, consistent, db_position from bookmark where set_name = ? order by seq desc, created_at_micros desc")) {
                ps.setString(1, setName);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new BookmarkRecord(setName, rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getBoolean(4), rs.getString(5)));
                    }
                }
            }
            return out;
        });
    }

    // ---- restores ----

    public void insertRestore(RestoreRecord r) {
        inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "insert into restore_event(set_name, first_seq, last_seq, target_seq, bytes_written, finished_at_micros) values (?,?,?,?,?,?)")) {
                ps.setString(1, r.setName());
                ps.setLong(2, r.firstSeq());
                ps.setLong(3, r.lastSeq());
                ps.setLong(4, r.targetSeq());
                ps.setLong(5, r.bytesWritten());
                ps.setLong(6, r.finishedAtMicros());
                ps.executeUpdate();
            }
            return null;
        });
    }

    /** Restores of a set, newest first. */
    public List<RestoreRecord> listRestores(String setName) {
        return read(c -> {
            List<RestoreRecord> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "select target_seq, first_seq, last_seq, bytes_written, finished_at_micros from restore_event where set_name = ? order by first_seq desc")) {
                ps.setString(1, setName);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new RestoreRecord(setName, rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(5)));
                    }
                }
            }
            return out;
        });
    }
    // ---- set settings ----

    /** The set's capture settings; {@link SetSettings#defaults} when none were stored. */
    public SetSettings settings(String setName) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "select cut_every_ms, cut_adaptive_min_ms, cut_adaptive_max_ms, cut_writes, cut_bytes, codec, keep_every_write_ms,"
                            + " keep_rules, keep_max_bytes from set_settings where set_name = ?")) {
                ps.setString(1, setName);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return SetSettings.defaults(setName);
                    }
                    return new SetSettings(setName, millis(rs, 1), millis(rs, 2), millis(rs, 3), rs.getLong(4), rs.getLong(5),
                            rs.getString(6), millis(rs, 7), rs.getString(8), rs.getLong(9));
                }
            }
        });
    }

    /** Stores the set's capture settings, replacing what was there. */
    public void updateSettings(SetSettings s) {
        inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("delete from set_settings where set_name = ?")) {
                ps.setString(1, s.setName());
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "insert into set_settings(set_name, cut_every_ms, cut_adaptive_min_ms, cut_adaptive_max_ms, cut_writes, cut_bytes,"
                            + " codec, keep_every_write_ms, keep_rules, keep_max_bytes) values (?,?,?,?,?,?,?,?,?,?)")) {
                ps.setString(1, s.setName());
                setMillis(ps, 2, s.cutEvery());
                setMillis(ps, 3, s.cutAdaptiveMin());
                setMillis(ps, 4, s.cutAdaptiveMax());
                ps.setLong(5, s.cutWrites());
                ps.setLong(6, s.cutBytes());
                ps.setString(7, s.codec());
                setMillis(ps, 8, s.keepEveryWrite());
                ps.setString(9, s.keepRules());
                if (s.keepMaxBytes() > 0) {
                    ps.setLong(10, s.keepMaxBytes());
                } else {
                    ps.setNull(10, Types.BIGINT);
                }
                ps.executeUpdate();
            }
            return null;
        });
    }

    private static Duration millis(ResultSet rs, int column) throws SQLException {
        long ms = rs.getLong(column);
        return rs.wasNull() ? null : Duration.ofMillis(ms);
    }

    private static void setMillis(PreparedStatement ps, int index, Duration d) throws SQLException {
        if (d == null) {
            ps.setNull(index, Types.BIGINT);
        } else {
            ps.setLong(index, d.toMillis());
        }
    }

    // ---- transactions ----

    /**
     * Inserts the rows of transactions the catalog does not have yet (by set and id) and
     * returns how many were new. The set's transaction log on the secondary is the truth:
     * a row is a copy, inserted at each cut, and again at open for any a crash left out.
     */
    public int insertTransactions(List<TransactionRecord> transactions) {
        if (transactions.isEmpty()) {
            return 0;
        }
        return inTransaction(c -> insertTransactions(c, transactions));
    }

    private static int insertTransactions(Connection c, List<TransactionRecord> transactions) throws SQLException {
        {
            int inserted = 0;
            try (PreparedStatement exists = c.prepareStatement("select 1 from transactions where set_name = ? and id = ?");
                 PreparedStatement ps = c.prepareStatement(
                         "insert into transactions(set_name, id, first_seq, last_seq, start_micros, end_micros, writes, bytes, reason,"
                                 + " codec, extent_count, forward_stored_bytes, backward_stored_bytes, changed_bytes, forward_file,"
                                 + " backward_file) values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")) {
                for (TransactionRecord t : transactions) {
                    exists.setString(1, t.setName());
                    exists.setLong(2, t.id());
                    try (ResultSet rs = exists.executeQuery()) {
                        if (rs.next()) {
                            continue;
                        }
                    }
                    ps.setString(1, t.setName());
                    ps.setLong(2, t.id());
                    ps.setLong(3, t.firstSeq());
                    ps.setLong(4, t.lastSeq());
                    ps.setLong(5, t.startMicros());
                    ps.setLong(6, t.endMicros());
                    ps.setLong(7, t.writes());
                    ps.setLong(8, t.bytes());
                    ps.setString(9, t.reason());
                    ps.setString(10, t.codec());
                    ps.setInt(11, t.extentCount());
                    ps.setLong(12, t.forwardStoredBytes());
                    ps.setLong(13, t.backwardStoredBytes());
                    ps.setLong(14, t.changedBytes());
                    ps.setString(15, t.forwardFile());
                    ps.setString(16, t.backwardFile());
                    ps.executeUpdate();
                    inserted++;
                }
            }
            return inserted;
        }
    }

    /**
     * Makes the catalog's copy of the set's transactions {@code current} again after retention
     * merged or dropped some: the rows from before are replaced in one transaction.
     */
    public void replaceTransactions(String setName, List<TransactionRecord> current) {
        inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("delete from transactions where set_name = ?")) {
                ps.setString(1, setName);
                ps.executeUpdate();
            }
            return insertTransactions(c, current);
        });
    }

    /** How many transaction rows the catalog holds for the set. */
    public long countTransactions(String setName) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement("select count(*) from transactions where set_name = ?")) {
                ps.setString(1, setName);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getLong(1) : 0L;
                }
            }
        });
    }

    /** The highest transaction id the catalog holds for the set, or 0 if none. */
    public long lastTransactionId(String setName) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement("select max(id) from transactions where set_name = ?")) {
                ps.setString(1, setName);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getLong(1) : 0L;
                }
            }
        });
    }

    /** Transactions of a set, oldest first. */
    public List<TransactionRecord> listTransactions(String setName) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement(TRANSACTION_SELECT + " where set_name = ? order by id")) {
                ps.setString(1, setName);
                return readTransactions(ps);
            }
        });
    }

    public Optional<TransactionRecord> findTransaction(String setName, long id) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement(TRANSACTION_SELECT + " where set_name = ? and id = ?")) {
                ps.setString(1, setName);
                ps.setLong(2, id);
                List<TransactionRecord> list = readTransactions(ps);
                return list.isEmpty() ? Optional.empty() : Optional.of(list.get(0));
            }
        });
    }

    private static final String TRANSACTION_SELECT = "select set_name, id, first_seq, last_seq, start_micros, end_micros, writes, bytes,"
            + " reason, codec, extent_count, forward_stored_bytes, backward_stored_bytes, changed_bytes, forward_file, backward_file"
            + " from transactions";

    private static List<TransactionRecord> readTransactions(PreparedStatement ps) throws SQLException {
        List<TransactionRecord> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new TransactionRecord(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(5), rs.getLong(6),
                        rs.getLong(7), rs.getLong(8), rs.getString(9), rs.getString(10), rs.getInt(11), rs.getLong(12), rs.getLong(13),
                        rs.getLong(14), rs.getString(15), rs.getString(16)));
            }
        }
        return out;
    }
}
