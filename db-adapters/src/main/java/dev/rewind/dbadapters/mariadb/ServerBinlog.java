package dev.rewind.dbadapters.mariadb;

import dev.rewind.volumeset.RewindException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the server says about its binary log, over one JDBC connection: whether it is on, its
 * current coordinates ({@code SHOW MASTER STATUS}), its GTID position, where its files are
 * ({@code @@log_bin_basename}, {@code SHOW BINARY LOGS}), and where a GTID's transaction ends
 * ({@code SHOW BINLOG EVENTS}). A missing privilege becomes one line naming the GRANT to run.
 */
final class ServerBinlog {
    /** ER_SPECIFIC_ACCESS_DENIED_ERROR and ER_DBACCESS/TABLEACCESS: the user lacks a privilege. */
    private static final int ACCESS_DENIED = 1227;
    private static final int SYNTAX_ERROR = 1064;
    private static final Pattern PRIVILEGES = Pattern.compile("the (.+?) privilege");
    private static final Pattern GTID_INFO = Pattern.compile("^(BEGIN )?GTID (\\d+-\\d+-\\d+)\\b.*");
    static final Pattern GTID = Pattern.compile("\\d{1,10}-\\d{1,10}-\\d{1,20}");

    private final Connection c;
    private final String target;

    ServerBinlog(Connection c, String target) {
        this.c = c;
        this.target = target;
    }

    /** Whether the server is MariaDB (else MySQL), from its version string. */
    boolean isMariaDb() throws SQLException {
        return firstValue("SELECT VERSION()").toLowerCase(Locale.ROOT).contains("mariadb");
    }

    /** Refuses clearly when binary logging is off. */
    void requireBinlog() throws SQLException {
        String on = firstValue("SELECT @@log_bin");
        if (!"1".equals(on) && !"ON".equalsIgnoreCase(on)) {
            throw binlogOff();
        }
    }

    /** The current end of the binlog ({@code SHOW MASTER STATUS}; MySQL 8.4: {@code SHOW BINARY LOG STATUS}). */
    BinlogPosition currentPosition() throws SQLException {
        try {
            return currentPosition("SHOW MASTER STATUS");
        } catch (SQLException e) {
            if (e.getErrorCode() == SYNTAX_ERROR) {
                return currentPosition("SHOW BINARY LOG STATUS");
            }
            throw e;
        }
    }

    private BinlogPosition currentPosition(String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = run(s, sql)) {
            if (!rs.next()) {
                throw binlogOff();
            }
            return new BinlogPosition(rs.getString(1), rs.getLong(2));
        }
    }

    /** The GTID position of the binlog ({@code @@gtid_binlog_pos}; MySQL: {@code @@gtid_executed}), null when empty. */
    String gtidPosition(boolean mariaDb) throws SQLException {
        String gtid = firstValue(mariaDb ? "SELECT @@gtid_binlog_pos" : "SELECT @@global.gtid_executed");
        return gtid == null || gtid.isBlank() ? null : gtid.strip().replaceAll("\\s+", "");
    }

    /** The directory of the binlog files. */
    Path binlogDir() throws SQLException {
        String base = firstValue("SELECT @@log_bin_basename");
        if (base == null || base.isBlank()) {
            throw binlogOff();
        }
        return Path.of(base).toAbsolutePath().getParent();
    }

    /** The binlog files the server still has, oldest first. */
    List<String> binlogFiles() throws SQLException {
        List<String> files = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = run(s, "SHOW BINARY LOGS")) {
            while (rs.next()) {
                files.add(rs.getString(1));
            }
        }
        if (files.isEmpty()) {
            throw binlogOff();
        }
        return files;
    }

    /**
     * Where the transaction of {@code gtid} ends: the start of its last event (the Xid or
     * COMMIT of a transaction, the Query of a DDL), searched newest file first.
     */
    BinlogPosition endOfTransaction(String gtid) throws SQLException {
        List<String> files = binlogFiles();
        for (int i = files.size() - 1; i >= 0; i--) {
            BinlogPosition end = endOfTransaction(files.get(i), gtid);
            if (end != null) {
                return end;
            }
        }
        throw new RewindException("GTID " + gtid + " is not in the binlogs of " + target + " (" + files.get(0) + " to "
                + files.get(files.size() - 1) + "); give a GTID that SHOW BINLOG EVENTS lists, or binlog coordinates FILE:POS");
    }

    private BinlogPosition endOfTransaction(String file, String gtid) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = run(s, "SHOW BINLOG EVENTS IN '" + file.replace("'", "''") + "'")) {
            boolean inside = false;
            boolean transaction = false;
            while (rs.next()) {
                long pos = rs.getLong("Pos");
                String type = rs.getString("Event_type");
                String info = rs.getString("Info") == null ? "" : rs.getString("Info").strip();
                if ("Gtid".equals(type)) {
                    if (inside) {
                        break; // the next transaction began before ours ended
                    }
                    Matcher m = GTID_INFO.matcher(info);
                    if (m.matches() && m.group(2).equals(gtid)) {
                        inside = true;
                        transaction = m.group(1) != null;
                    }
                    continue;
                }
                if (!inside) {
                    continue;
                }
                boolean ends = transaction
                        ? "Xid".equals(type) || "Query".equals(type) && BinlogEvents.endsTransaction(info)
                        : "Query".equals(type);
                if (ends) {
                    return new BinlogPosition(file, pos);
                }
            }
            if (inside) {
                throw new RewindException("the transaction of GTID " + gtid + " has no end in " + file + " on " + target
                        + " (still being written?); give binlog coordinates FILE:POS instead");
            }
            return null;
        }
    }

    /** Event types that frame a binlog file rather than carry a change. */
    private static final Set<String> FRAMING = Set.of("Format_desc", "Gtid_list", "Binlog_checkpoint",
            "Start_encryption", "Rotate", "Stop", "Previous_gtids");

    /**
     * When {@code at} is an event of a statement logged on its own (a DDL: its Gtid event has
     * no BEGIN), the start of the last event before that statement's Gtid event, in this file
     * or, at a file's start, the previous one; null for an event inside a transaction, or
     * when no earlier event exists.
     */
    BinlogPosition lastEventBeforeStandaloneStatement(BinlogPosition at) throws SQLException {
        List<String> files = binlogFiles();
        int index = files.indexOf(at.file());
        if (index < 0) {
            return null;
        }
        long previousEvent = -1;
        long beforeGtid = -1;
        boolean standalone = false;
        try (Statement s = c.createStatement(); ResultSet rs = run(s, "SHOW BINLOG EVENTS IN '" + at.file().replace("'", "''") + "'")) {
            while (rs.next()) {
                long pos = rs.getLong("Pos");
                String type = rs.getString("Event_type");
                String info = rs.getString("Info") == null ? "" : rs.getString("Info").strip();
                if (pos > at.offsetBytes()) {
                    break;
                }
                if ("Gtid".equals(type)) {
                    beforeGtid = previousEvent;
                    standalone = !info.toUpperCase(Locale.ROOT).startsWith("BEGIN");
                }
                if (!FRAMING.contains(type)) {
                    previousEvent = pos;
                }
            }
        }
        if (!standalone) {
            return null;
        }
        if (beforeGtid >= 0) {
            return new BinlogPosition(at.file(), beforeGtid);
        }
        for (int i = index - 1; i >= 0; i--) {
            long last = -1;
            try (Statement s = c.createStatement(); ResultSet rs = run(s, "SHOW BINLOG EVENTS IN '" + files.get(i).replace("'", "''") + "'")) {
                while (rs.next()) {
                    if (!FRAMING.contains(rs.getString("Event_type"))) {
                        last = rs.getLong("Pos");
                    }
                }
            }
            if (last >= 0) {
                return new BinlogPosition(files.get(i), last);
            }
        }
        return null;
    }

    private ResultSet run(Statement s, String sql) throws SQLException {
        try {
            return s.executeQuery(sql);
        } catch (SQLException e) {
            throw privilegeOrSelf(e, sql);
        }
    }

    private String firstValue(String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = run(s, sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /** Runs a statement that returns nothing, a missing privilege named. */
    void execute(String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw privilegeOrSelf(e, sql);
        }
    }

    /** Throws a RewindException naming the GRANT for a missing privilege; returns any other error unchanged, to be thrown. */
    SQLException privilegeOrSelf(SQLException e, String sql) {
        if (e.getErrorCode() != ACCESS_DENIED) {
            return e;
        }
        Matcher m = PRIVILEGES.matcher(e.getMessage() == null ? "" : e.getMessage());
        String privileges = m.find() ? m.group(1) : "the missing";
        String user = "<user>";
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT CURRENT_USER()")) {
            if (rs.next()) {
                String[] parts = rs.getString(1).split("@", 2);
                user = "'" + parts[0] + "'@'" + (parts.length > 1 ? parts[1] : "%") + "'";
            }
        } catch (SQLException ignored) {
            // keep the placeholder
        }
        throw new RewindException(target + " refused " + sql + ": the user lacks the " + privileges + " privilege; as an admin run: GRANT "
                + privileges + " ON *.* TO " + user);
    }

    private RewindException binlogOff() {
        return new RewindException("binary logging is off on " + target + "; restart the server with --log-bin (and --server-id=1) "
                + "so Rewind can map binlog positions to writes");
    }
}
