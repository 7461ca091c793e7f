-- Sandboxes: a set opened writable at a past seq, its writes kept in an overlay of its own
-- (under dir) that never reaches the journal or the primary. While a sandbox exists, its seq
-- is pinned: the every-write history and, later, retention keep what it reads.
-- db_port and db_pid are those of the private database started on it, while it runs.

create table sandbox (
    set_name               varchar(64)   not null references volume_set(name),
    name                   varchar(64)   not null,
    seq                    bigint        not null,
    point                  varchar(256)  not null,
    created_at_micros      bigint        not null,
    dir                    varchar(1024) not null,
    db_port                int,
    db_pid                 bigint,
    primary key (set_name, name)
);

-- What the attached database's server said of itself (data directory, configuration file,
-- server binary, log paths ...), recorded while it was reachable, so that a private copy can
-- be started on a sandbox even while production is down.
create table db_server_setting (
    set_name               varchar(64)   not null references volume_set(name),
    name                   varchar(128)  not null,
    setting                varchar(4096) not null,
    primary key (set_name, name)
);
