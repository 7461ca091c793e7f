package dev.rewind.cli.quickstart;

import dev.rewind.capture.BlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Random;

/**
 * The quickstart's application: a bank in H2 whose database file lives on the set's
 * {@code data} member, plus a ledger it appends to the {@code log} member after each
 * committed transfer (fixed 64-byte entries). The invariants it checks after a restore:
 * the total balance, every account row, and one ledger entry per transfer row.
 */
final class Bank implements AutoCloseable {
    static final int ACCOUNTS = 100;
    static final long OPENING_BALANCE = 1_000;
    static final int LEDGER_ENTRY_BYTES = 64;

    private final Connection db;
    private final BlockDevice ledger;

    private Bank(Connection db, BlockDevice ledger) {
        this.db = db;
        this.ledger = ledger;
    }

    static Bank open(String jdbcUrl, BlockDevice ledger) throws SQLException {
        Connection c = DriverManager.getConnection(jdbcUrl, "bank", "");
        c.setAutoCommit(false);
        return new Bank(c, ledger);
    }

    void createAccounts() throws SQLException {
        try (Statement s = db.createStatement()) {
            s.execute("create table account(id int primary key, owner varchar(40) not null, balance bigint not null)");
            s.execute("create table transfer(id int primary key, from_id int not null, to_id int not null, amount bigint not null)");
        }
        try (PreparedStatement ps = db.prepareStatement("insert into account values (?, ?, ?)")) {
            for (int i = 1; i <= ACCOUNTS; i++) {
                ps.setInt(1, i);
                ps.setString(2, "customer-" + i);
                ps.setLong(3, OPENING_BALANCE);
                ps.addBatch();
            }
            ps.executeBatch();
        }
        db.commit();
    }

    /** Runs {@code count} random transfers, each a transaction, each followed by its ledger entry. */
    void transfer(int count, long seed) throws SQLException, IOException {
        Random rnd = new Random(seed);
        int next = countTransfers() + 1;
        try (PreparedStatement debit = db.prepareStatement("update account set balance = balance - ? where id = ?");
             PreparedStatement credit = db.prepareStatement("update account set balance = balance + ? where id = ?");
             PreparedStatement record = db.prepareStatement("insert into transfer values (?, ?, ?, ?)")) {
            for (int i = 0; i < count; i++, next++) {
                int from = 1 + rnd.nextInt(ACCOUNTS);
                int to = 1 + (from + rnd.nextInt(ACCOUNTS - 1)) % ACCOUNTS;
                long amount = 1 + rnd.nextInt(200);
                debit.setLong(1, amount);
                debit.setInt(2, from);
                debit.executeUpdate();
                credit.setLong(1, amount);
                credit.setInt(2, to);
                credit.executeUpdate();
                record.setInt(1, next);
                record.setInt(2, from);
                record.setInt(3, to);
                record.setLong(4, amount);
                record.executeUpdate();
                db.commit();
                appendLedger(next, from, to, amount);
            }
        }
    }

    private void appendLedger(int id, int from, int to, long amount) throws IOException {
        String line = String.format("transfer %6d: %3d -> %3d %5d", id, from, to, amount);
        byte[] entry = new byte[LEDGER_ENTRY_BYTES];
        byte[] text = line.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(text, 0, entry, 0, text.length);
        entry[LEDGER_ENTRY_BYTES - 1] = '\n';
        ledger.write((long) (id - 1) * LEDGER_ENTRY_BYTES, ByteBuffer.wrap(entry), false);
    }

    /** Ledger entries on the log member: counted up to the first empty slot. */
    static int countLedger(BlockDevice ledger) throws IOException {
        ByteBuffer entry = ByteBuffer.allocate(LEDGER_ENTRY_BYTES);
        int n = 0;
        while ((long) (n + 1) * LEDGER_ENTRY_BYTES <= ledger.sizeBytes()) {
            entry.clear();
            ledger.read((long) n * LEDGER_ENTRY_BYTES, entry);
            if (entry.get(0) == 0) {
                break;
            }
            n++;
        }
        return n;
    }

    /** Forces H2 to write everything it holds to its file (and so through the capture path). */
    void checkpoint() throws SQLException {
        try (Statement s = db.createStatement()) {
            s.execute("checkpoint");
        }
    }

    int deleteAllAccounts() throws SQLException {
        try (Statement s = db.createStatement()) {
            int n = s.executeUpdate("delete from account");
            db.commit();
            return n;
        }
    }

    long totalBalance() throws SQLException {
        return single("select coalesce(sum(balance), 0) from account");
    }

    int countAccounts() throws SQLException {
        return (int) single("select count(*) from account");
    }

    int countTransfers() throws SQLException {
        return (int) single("select count(*) from transfer");
    }

    private long single(String sql) throws SQLException {
        try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Stops the database abruptly, as a crash or a kill would: no clean close is written. */
    void crash() throws SQLException {
        try (Statement s = db.createStatement()) {
            s.execute("shutdown immediately");
        } catch (SQLException e) {
            // H2 reports the closed connection; that is the point
        }
        db.close();
    }

    @Override
    public void close() throws SQLException {
        if (!db.isClosed()) {
            db.commit();
            try (Statement s = db.createStatement()) {
                s.execute("shutdown");
            }
            db.close();
        }
    }
}
