package dev.rewind.volumeset.catalog;

import dev.rewind.volumeset.RewindException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The catalog's table of sandboxes ({@code sandbox}). Reached through {@link Catalog#sandboxes()};
 * every change is one durable catalog transaction. The oldest sandbox seq of a set is its pin:
 * history that a sandbox reads is kept while the sandbox exists.
 */
public final class SandboxRecords {
    private static final String COLUMNS = "set_name, name, seq, point, created_at_micros, dir, db_port, db_pid";

    private final Catalog catalog;

    SandboxRecords(Catalog catalog) {
        this.catalog = catalog;
    }

    /** Records a new sandbox; refused if the set already has one of that name. */
    public void insert(SandboxRecord r) {
        catalog.inTransaction(c -> {
            if (find(c, r.setName(), r.name()).isPresent()) {
                throw new RewindException("set " + r.setName() + " already has a sandbox named " + r.name()
                        + "; choose another name, or drop it first (rewind sandbox drop " + r.setName() + " " + r.name() + ")");
            }
            try (PreparedStatement ps = c.prepareStatement("insert into sandbox(" + COLUMNS + ") values (?,?,?,?,?,?,?,?)")) {
                ps.setString(1, r.setName());
                ps.setString(2, r.name());
                ps.setLong(3, r.seq());
                ps.setString(4, r.point());
                ps.setLong(5, r.createdAtMicros());
                ps.setString(6, r.dir());
                setDatabase(ps, 7, r);
                ps.executeUpdate();
            }
            return null;
        });
    }

    /** Records that a database was started on the sandbox, or stopped (port and pid null). */
    public void updateDatabase(SandboxRecord r) {
        catalog.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("update sandbox set db_port = ?, db_pid = ? where set_name = ? and name = ?")) {
                setDatabase(ps, 1, r);
                ps.setString(3, r.setName());
                ps.setString(4, r.name());
                if (ps.executeUpdate() == 0) {
                    throw new RewindException("set " + r.setName() + " has no sandbox named " + r.name());
                }
            }
            return null;
        });
    }

    /** Forgets a sandbox; false if there was none. */
    public boolean delete(String setName, String name) {
        return catalog.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("delete from sandbox where set_name = ? and name = ?")) {
                ps.setString(1, setName);
                ps.setString(2, name);
                return ps.executeUpdate() > 0;
            }
        });
    }

    public Optional<SandboxRecord> find(String setName, String name) {
        return catalog.read(c -> find(c, setName, name));
    }

    /** The sandboxes of one set, or of every set (null), by set and name. */
    public List<SandboxRecord> list(String setNameOrNull) {
        return catalog.read(c -> {
            String where = setNameOrNull == null ? "" : " where set_name = ?";
            try (PreparedStatement ps = c.prepareStatement("select " + COLUMNS + " from sandbox" + where + " order by set_name, name")) {
                if (setNameOrNull != null) {
                    ps.setString(1, setNameOrNull);
                }
                return rows(ps);
            }
        });
    }

    /** Every seq a sandbox of the set reads or a bookmark of it names; see {@link Catalog#historyPins}. */
    public long[] historyPins(String setName) {
        return catalog.historyPins(setName);
    }

    private static Optional<SandboxRecord> find(java.sql.Connection c, String setName, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select " + COLUMNS + " from sandbox where set_name = ? and name = ?")) {
            ps.setString(1, setName);
            ps.setString(2, name);
            return rows(ps).stream().findFirst();
        }
    }

    private static List<SandboxRecord> rows(PreparedStatement ps) throws SQLException {
        List<SandboxRecord> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                int port = rs.getInt(7);
                Integer dbPort = rs.wasNull() ? null : port;
                long pid = rs.getLong(8);
                Long dbPid = rs.wasNull() ? null : pid;
                out.add(new SandboxRecord(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getString(4), rs.getLong(5),
                        rs.getString(6), dbPort, dbPid));
            }
        }
        return out;
    }

    private static void setDatabase(PreparedStatement ps, int index, SandboxRecord r) throws SQLException {
        if (r.databasePort() == null) {
            ps.setNull(index, Types.INTEGER);
        } else {
            ps.setInt(index, r.databasePort());
        }
        if (r.databasePid() == null) {
            ps.setNull(index + 1, Types.BIGINT);
        } else {
            ps.setLong(index + 1, r.databasePid());
        }
    }
}
