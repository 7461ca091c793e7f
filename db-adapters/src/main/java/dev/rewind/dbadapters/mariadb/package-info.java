/**
 * The MariaDB (and MySQL) adapter: {@link dev.rewind.dbadapters.mariadb.MariaDbAdapter} takes
 * consistent points under {@code BACKUP STAGE}, samples binlog coordinates against the set's
 * seq, turns {@code FILE:POS} or a GTID into a position, finds statements in the binlog
 * (through {@code mariadb-binlog}) and says where a binlog event lives in its file. Imports
 * only the adapter API.
 */
package dev.rewind.dbadapters.mariadb;
