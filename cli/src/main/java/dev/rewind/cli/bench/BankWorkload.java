package dev.rewind.cli.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Random;

/**
 * The quickstart's bank as a load for the increments benchmark: the same schema and the same
 * transfer (debit, credit, a transfer row, one commit), with more accounts (each row padded
 * to about 100 bytes) so that the database spans many pages. Runs on any JDBC URL; the
 * benchmark gives it H2 on a captured set.
 */
final class BankWorkload implements AutoCloseable {
    private final Connection db;
    private final int accounts;
    private final Random rnd;
    private int nextTransfer = 1;

    BankWorkload(String jdbcUrl, int accounts, long seed) throws SQLException {
        this.db = DriverManager.getConnection(jdbcUrl, "bank", "");
        this.db.setAutoCommit(false);
        this.accounts = accounts;
        this.rnd = new Random(seed);
    }

    void createAccounts() throws SQLException {
        try (Statement s = db.createStatement()) {
            s.execute("create table account(id int primary key, owner varchar(40) not null, balance bigint not null,"
                    + " note varchar(60) not null)");
            s.execute("create table transfer(id int primary key, from_id int not null, to_id int not null, amount bigint not null)");
        }
        try (PreparedStatement ps = db.prepareStatement("insert into account values (?, ?, ?, ?)")) {
            for (int i = 1; i <= accounts; i++) {
                ps.setInt(1, i);
                ps.setString(2, "customer-" + i);
                ps.setLong(3, 1_000);
                ps.setString(4, "opened with the standard terms, statement monthly, branch " + (i % 97));
                ps.addBatch();
                if (i % 1000 == 0) {
                    ps.executeBatch();
                }
            }
            ps.executeBatch();
        }
        db.commit();
        checkpoint();
    }

    /** Runs {@code count} transfers, each its own committed transaction. */
    void transfer(int count) throws SQLException {
        try (PreparedStatement debit = db.prepareStatement("update account set balance = balance - ? where id = ?");
             PreparedStatement credit = db.prepareStatement("update account set balance = balance + ? where id = ?");
             PreparedStatement record = db.prepareStatement("insert into transfer values (?, ?, ?, ?)")) {
            for (int i = 0; i < count; i++, nextTransfer++) {
                int from = 1 + rnd.nextInt(accounts);
                int to = 1 + (from + rnd.nextInt(accounts - 1)) % accounts;
                long amount = 1 + rnd.nextInt(200);
                debit.setLong(1, amount);
                debit.setInt(2, from);
                debit.executeUpdate();
                credit.setLong(1, amount);
                credit.setInt(2, to);
                credit.executeUpdate();
                record.setInt(1, nextTransfer);
                record.setInt(2, from);
                record.setInt(3, to);
                record.setLong(4, amount);
                record.executeUpdate();
                db.commit();
            }
        }
    }

    /** Makes H2 write everything it holds to its file, and so through the capture path. */
    void checkpoint() throws SQLException {
        try (Statement s = db.createStatement()) {
            s.execute("checkpoint");
        }
    }

    @Override
    public void close() throws SQLException {
        db.close();
    }
}
