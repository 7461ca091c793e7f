package dev.rewind.dbadapters.api;

/**
 * A point of a database's log in its own terms ({@code text}: a PostgreSQL LSN such as
 * {@code 0/3A0000F8}; MariaDB binlog coordinates {@code mysql-bin.000003:1234}) and as a
 * number that sorts like the log ({@code order}: the LSN; the binlog file number times
 * 2^40 plus the offset).
 */
public record DatabasePosition(String text, long order) implements Comparable<DatabasePosition> {
    @Override
    public int compareTo(DatabasePosition o) {
        return Long.compare(order, o.order);
    }

    @Override
    public String toString() {
        return text;
    }
}
