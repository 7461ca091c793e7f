package dev.rewind.volumeset.catalog;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The catalog's tables of attached databases ({@code db_attachment}, {@code db_validation},
 * {@code db_mount}), of sampled positions ({@code db_position}) and of sampled relation names
 * ({@code db_relation_map}, {@code db_relation_name}). Reached through
 * {@link Catalog#databases()}; every change is one durable catalog transaction.
 */
public final class DatabaseRecords {
    private final Catalog catalog;

    DatabaseRecords(Catalog catalog) {
        this.catalog = catalog;
    }

    /**
     * Records the set's database, replacing an earlier attachment; the position samples taken
     * so far are kept (see {@link #forgetSamples}).
     */
    public void attach(DatabaseAttachment a) {
        catalog.inTransaction(c -> {
            deleteAttachment(c, a.setName(), false);
            try (PreparedStatement ps = c.prepareStatement("insert into db_attachment(set_name, engine, jdbc_url, db_user, password_file,"
                    + " password_env, stop_command, start_command, consistent_every_ms, sample_every_ms, attached_at_micros)"
                    + " values (?,?,?,?,?,?,?,?,?,?,?)")) {
                ps.setString(1, a.setName());
                ps.setString(2, a.engine());
                ps.setString(3, a.jdbcUrl());
                ps.setString(4, a.user());
                ps.setString(5, a.passwordFile());
                ps.setString(6, a.passwordEnv());
                ps.setString(7, a.stopCommand());
                ps.setString(8, a.startCommand());
                if (a.consistentEvery() == null) {
                    ps.setNull(9, Types.BIGINT);
                } else {
                    ps.setLong(9, a.consistentEvery().toMillis());
                }
                ps.setLong(10, a.sampleEvery().toMillis());
                ps.setLong(11, a.attachedAtMicros());
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("insert into db_validation(set_name, ordinal, sql_text) values (?,?,?)")) {
                for (int i = 0; i < a.validations().size(); i++) {
                    ps.setString(1, a.setName());
                    ps.setInt(2, i);
                    ps.setString(3, a.validations().get(i));
                    ps.executeUpdate();
                }
            }
            try (PreparedStatement ps = c.prepareStatement("insert into db_mount(set_name, member_name, mount_path) values (?,?,?)")) {
                for (Map.Entry<String, String> m : a.mounts().entrySet()) {
                    ps.setString(1, a.setName());
                    ps.setString(2, m.getKey());
                    ps.setString(3, m.getValue());
                    ps.executeUpdate();
                }
            }
            return null;
        });
    }

    /** Forgets the set's database and its samples; false if none was attached. */
    public boolean detach(String setName) {
        return catalog.inTransaction(c -> deleteAttachment(c, setName, true));
    }

    private static boolean deleteAttachment(Connection c, String setName, boolean withSamples) throws SQLException {
        int attachments = 0;
        List<String> tables = List.of("db_mount", "db_validation", "db_server_setting", "db_attachment");
        if (withSamples) {
            tables = List.of("db_position", "db_relation_name", "db_relation_map", "db_mount", "db_validation", "db_server_setting", "db_attachment");
        }
        for (String table : tables) {
            try (PreparedStatement ps = c.prepareStatement("delete from " + table + " where set_name = ?")) {
                ps.setString(1, setName);
                int n = ps.executeUpdate();
                if (table.equals("db_attachment")) {
                    attachments = n;
                }
            }
        }
        return attachments > 0;
    }

    public Optional<DatabaseAttachment> attachment(String setName) {
        return catalog.read(c -> {
            List<String> validations = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("select sql_text from db_validation where set_name = ? order by ordinal")) {
                ps.setString(1, setName);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        validations.add(rs.getString(1));
                    }
                }
            }
            Map<String, String> mounts = new LinkedHashMap<>();
            try (PreparedStatement ps = c.prepareStatement("select member_name, mount_path from db_mount where set_name = ? order by member_name")) {
                ps.setString(1, setName);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        mounts.put(rs.getString(1), rs.getString(2));
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("select engine, jdbc_url, db_user, password_file, password_env, stop_command,"
                    + " start_command, consistent_every_ms, sample_every_ms, attached_at_micros from db_attachment where set_name = ?")) {
                ps.setString(1, setName);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    long every = rs.getLong(8);
                    Duration consistentEvery = rs.wasNull() ? null : Duration.ofMillis(every);
                    return Optional.of(new DatabaseAttachment(setName, rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                            rs.getString(5), rs.getString(6), rs.getString(7), validations, mounts, consistentEvery,
                            Duration.ofMillis(rs.getLong(9)), rs.getLong(10)));
                }
            }
        });
    }

    /**
     * Replaces what the set's database server said of itself (e.g. {@code data_directory},
     * {@code config_file}, {@code server_binary}), for starting a private copy on a sandbox.
     */
    public void recordServerSettings(String setName, Map<String, String> settings) {
        catalog.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("delete from db_server_setting where set_name = ?")) {
                ps.setString(1, setName);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("insert into db_server_setting(set_name, name, setting) values (?,?,?)")) {
                for (Map.Entry<String, String> e : settings.entrySet()) {
                    ps.setString(1, setName);
                    ps.setString(2, e.getKey());
                    ps.setString(3, e.getValue());
                    ps.executeUpdate();
                }
            }
            return null;
        });
    }

    /** What {@link #recordServerSettings} recorded last, by name; empty if nothing was. */
    public Map<String, String> serverSettings(String setName) {
        return catalog.read(c -> {
            Map<String, String> out = new LinkedHashMap<>();
            try (PreparedStatement ps = c.prepareStatement("select name, setting from db_server_setting where set_name = ? order by name")) {
                ps.setString(1, setName);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.put(rs.getString(1), rs.getString(2));
                    }
                }
            }
            return out;
        });
    }

    /** The sets that have a database attached. */
    public List<String> attachedSets() {
        return catalog.read(c -> {
            List<String> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("select set_name from db_attachment order by set_name");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            return out;
        });
    }

    // ---- sampled positions ----

    /**
     * Stores samples; one that repeats an existing (set, seq, durable order) is skipped. A
     * sample whose lineage is not known (0) is stored on the lineage its seq has by the
     * restores recorded now: the seq after the writes of the newest restore that began at or
     * before it.
     */
    public void insertSamples(List<PositionSample> samples) {
        if (samples.isEmpty()) {
            return;
        }
        catalog.inTransaction(c -> {
            try (PreparedStatement exists = c.prepareStatement(
                    "select 1 from db_position where set_name = ? and seq = ? and durable_order = ?");
                 PreparedStatement lineage = c.prepareStatement("select 1 + coalesce(max(case when last_seq > first_seq - 1"
                         + " then last_seq else first_seq - 1 end), 0) from restore_event where set_name = ? and first_seq <= ?");
                 PreparedStatement ps = c.prepareStatement("insert into db_position(set_name, seq, time_micros, durable_position,"
                         + " durable_order, bound_position, bound_order, gtid, lineage_seq) values (?,?,?,?,?,?,?,?,?)")) {
                for (PositionSample s : samples) {
                    exists.setString(1, s.setName());
                    exists.setLong(2, s.seq());
                    exists.setLong(3, s.durableOrder());
                    try (ResultSet rs = exists.executeQuery()) {
                        if (rs.next()) {
                            continue;
                        }
                    }
                    ps.setString(1, s.setName());
                    ps.setLong(2, s.seq());
                    ps.setLong(3, s.timeMicros());
                    ps.setString(4, s.durablePosition());
                    ps.setLong(5, s.durableOrder());
                    ps.setString(6, s.boundPosition());
                    ps.setLong(7, s.boundOrder());
                    ps.setString(8, s.gtid());
                    long lineageSeq = s.lineageSeq();
                    if (lineageSeq <= 0) {
                        lineage.setString(1, s.setName());
                        lineage.setLong(2, s.seq());
                        try (ResultSet rs = lineage.executeQuery()) {
                            rs.next();
                            lineageSeq = rs.getLong(1);
                        }
                    }
                    ps.setLong(9, lineageSeq);
                    ps.executeUpdate();
                }
            }
            return null;
        });
    }

    /** The set's samples with seq in [fromSeq, toSeq], oldest first. */
    public List<PositionSample> samples(String setName, long fromSeq, long toSeq) {
        return query("where set_name = ? and seq >= ? and seq <= ? order by seq, durable_order", setName, fromSeq, toSeq);
    }

    /** The newest sample whose bound lies before {@code order}: at its seq, the log at {@code order} was not yet written. */
    public Optional<PositionSample> lastSampleBoundBefore(String setName, long order) {
        return query("where set_name = ? and bound_order < ? order by seq desc, bound_order desc limit 1", setName, order)
                .stream().findFirst();
    }

    /**
     * The oldest sample whose durable position lies past {@code order}: at its seq, the record at {@code order} was on the
     * volumes (a durable position is where the next record starts, so one equal to {@code order} has not written it).
     */
    public Optional<PositionSample> firstSampleDurableFrom(String setName, long order) {
        return query("where set_name = ? and durable_order > ? order by seq, durable_order limit 1", setName, order)
                .stream().findFirst();
    }

    /** The newest sample at or before {@code seq}. */
    public Optional<PositionSample> lastSampleAtOrBefore(String setName, long seq) {
        return query("where set_name = ? and seq <= ? order by seq desc, durable_order desc limit 1", setName, seq)
                .stream().findFirst();
    }

    /** The newest sample with seq in [fromSeq, toSeq] taken on the lineage that starts at {@code lineageSeq}. */
    public Optional<PositionSample> lastSampleOnLineage(String setName, long fromSeq, long toSeq, long lineageSeq) {
        return query("where set_name = ? and seq >= ? and seq <= ? and lineage_seq = ? order by seq desc, durable_order desc limit 1",
                setName, fromSeq, toSeq, lineageSeq).stream().findFirst();
    }

    /** Forgets all of the set's samples, positions and relation names; how many position samples there were. */
    public int forgetSamples(String setName) {
        return catalog.inTransaction(c -> {
            for (String table : List.of("db_relation_name", "db_relation_map")) {
                try (PreparedStatement ps = c.prepareStatement("delete from " + table + " where set_name = ?")) {
                    ps.setString(1, setName);
                    ps.executeUpdate();
                }
            }
            try (PreparedStatement ps = c.prepareStatement("delete from db_position where set_name = ?")) {
                ps.setString(1, setName);
                return ps.executeUpdate();
            }
        });
    }

    /** How many samples the set has. */
    public int sampleCount(String setName) {
        return catalog.read(c -> {
            try (PreparedStatement ps = c.prepareStatement("select count(*) from db_position where set_name = ?")) {
                ps.setString(1, setName);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getInt(1);
                }
            }
        });
    }

    /** Forgets samples older than {@code seq} (their writes are gone from the history). */
    public int deleteSamplesBefore(String setName, long seq) {
        return catalog.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("delete from db_position where set_name = ? and seq < ?")) {
                ps.setString(1, setName);
                ps.setLong(2, seq);
                return ps.executeUpdate();
            }
        });
    }

    // ---- sampled relation names ----

    /**
     * Stores a mapping of relation files to table names; one that repeats an existing (set,
     * seq, position) is skipped. A mapping whose lineage is not known (0) is stored on the
     * lineage its seq has by the restores recorded now.
     */
    public void insertRelationNames(RelationNames names) {
        catalog.inTransaction(c -> {
            try (PreparedStatement exists = c.prepareStatement(
                    "select 1 from db_relation_map where set_name = ? and seq = ? and position_order = ?")) {
                exists.setString(1, names.setName());
                exists.setLong(2, names.seq());
                exists.setLong(3, names.positionOrder());
                try (ResultSet rs = exists.executeQuery()) {
                    if (rs.next()) {
                        return null;
                    }
                }
            }
            long lineageSeq = names.lineageSeq();
            if (lineageSeq <= 0) {
                try (PreparedStatement lineage = c.prepareStatement("select 1 + coalesce(max(case when last_seq > first_seq - 1"
                        + " then last_seq else first_seq - 1 end), 0) from restore_event where set_name = ? and first_seq <= ?")) {
                    lineage.setString(1, names.setName());
                    lineage.setLong(2, names.seq());
                    try (ResultSet rs = lineage.executeQuery()) {
                        rs.next();
                        lineageSeq = rs.getLong(1);
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("insert into db_relation_map(set_name, seq, lineage_seq, time_micros,"
                    + " position_text, position_order) values (?,?,?,?,?,?)")) {
                ps.setString(1, names.setName());
                ps.setLong(2, names.seq());
                ps.setLong(3, lineageSeq);
                ps.setLong(4, names.timeMicros());
                ps.setString(5, names.positionText());
                ps.setLong(6, names.positionOrder());
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("insert into db_relation_name(set_name, seq, position_order, relation_file,"
                    + " relation_name) values (?,?,?,?,?)")) {
                for (Map.Entry<String, String> e : names.namesByFile().entrySet()) {
                    ps.setString(1, names.setName());
                    ps.setLong(2, names.seq());
                    ps.setLong(3, names.positionOrder());
                    ps.setString(4, e.getKey());
                    ps.setString(5, e.getValue());
                    ps.executeUpdate();
                }
            }
            return null;
        });
    }

    /** The set's relation name mappings read before log position {@code order}, newest position first. */
    public List<RelationNames> relationNamesBefore(String setName, long order) {
        return catalog.read(c -> {
            List<RelationNames> maps = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("select seq, lineage_seq, time_micros, position_text, position_order"
                    + " from db_relation_map where set_name = ? and position_order < ? order by position_order desc, seq desc")) {
                ps.setString(1, setName);
                ps.setLong(2, order);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        maps.add(new RelationNames(setName, rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getString(4), rs.getLong(5),
                                Map.of()));
                    }
                }
            }
            List<RelationNames> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("select relation_file, relation_name from db_relation_name"
                    + " where set_name = ? and seq = ? and position_order = ?")) {
                for (RelationNames m : maps) {
                    ps.setString(1, setName);
                    ps.setLong(2, m.seq());
                    ps.setLong(3, m.positionOrder());
                    Map<String, String> names = new LinkedHashMap<>();
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            names.put(rs.getString(1), rs.getString(2));
                        }
                    }
                    out.add(new RelationNames(setName, m.seq(), m.lineageSeq(), m.timeMicros(), m.positionText(), m.positionOrder(),
                            names));
                }
            }
            return out;
        });
    }

    /** How many relation name mappings the set has. */
    public int relationNamesCount(String setName) {
        return catalog.read(c -> {
            try (PreparedStatement ps = c.prepareStatement("select count(*) from db_relation_map where set_name = ?")) {
                ps.setString(1, setName);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getInt(1);
                }
            }
        });
    }

    private List<PositionSample> query(String where, String setName, long... args) {
        return catalog.read(c -> {
            List<PositionSample> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("select seq, time_micros, durable_position, durable_order, bound_position,"
                    + " bound_order, gtid, lineage_seq from db_position " + where)) {
                ps.setString(1, setName);
                for (int i = 0; i < args.length; i++) {
                    ps.setLong(i + 2, args[i]);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new PositionSample(setName, rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getLong(4),
                                rs.getString(5), rs.getLong(6), rs.getString(7), rs.getLong(8)));
                    }
                }
            }
            return out;
        });
    }
}
