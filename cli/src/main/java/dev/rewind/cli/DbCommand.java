package dev.rewind.cli;

import picocli.CommandLine.Command;

/** {@code rewind db}: the database a set holds (attach, show, detach) and finding the statement that did the damage. */
@Command(name = "db", mixinStandardHelpOptions = true,
        description = {"The database a set holds: attach, show, detach it; find a statement in its log.",
                "Attach it with its JDBC URL, where its password is and how to stop and start it; find a statement in its log "
                        + "with the seq just before it. An attached database gets consistent bookmarks (rewind bookmark SET NAME "
                        + "--consistent), restores by its own positions (rewind restore --to-lsn, --before-lsn, --to-binlog, "
                        + "--before-binlog, --to-gtid), coordinated restores (--coordinated) and sandboxes it can run on."},
        subcommands = {DbAttachCommand.class, DbShowCommand.class, DbDetachCommand.class, DbFindCommand.class},
        footer = {"", "Examples:",
                "  rewind db attach shop --jdbc jdbc:postgresql://127.0.0.1:5432/shop \\",
                "      --user rewind --password-file /etc/rewind/shop.pw \\",
                "      --stop-cmd 'systemctl stop postgresql@15-main' \\",
                "      --start-cmd 'systemctl start postgresql@15-main' \\",
                "      --validate 'select count(*) > 0 from orders' \\",
                "      --mount wal=/srv/pg/wal --consistent-every 15m",
                "  rewind db show shop", "  rewind db find shop --sql 'DROP TABLE' --since 2026-11-25T14:00:00Z",
                "  rewind db detach shop"})
final class DbCommand {
}
