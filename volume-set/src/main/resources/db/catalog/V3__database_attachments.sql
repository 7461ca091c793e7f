-- The database attached to a set (one per set: a production volume set holds one
-- database), how to stop, start and validate it, where its members are mounted, and
-- the positions sampled while the daemon runs. No password is stored: only where to
-- read it (a file, or an environment variable of the process that connects).

create table db_attachment (
    set_name               varchar(64)   not null primary key references volume_set(name),
    engine                 varchar(16)   not null,
    jdbc_url               varchar(1024) not null,
    db_user                varchar(128),
    password_file          varchar(1024),
    password_env           varchar(128),
    stop_command           varchar(4096),
    start_command          varchar(4096),
    consistent_every_ms    bigint,
    sample_every_ms        bigint        not null,
    attached_at_micros     bigint        not null
);

-- Validation queries, run in order after a coordinated restore.
create table db_validation (
    set_name               varchar(64)   not null references volume_set(name),
    ordinal                int           not null,
    sql_text               varchar(4096) not null,
    primary key (set_name, ordinal)
);

-- Where the file system on a member is mounted, on the host where rewind serve runs.
create table db_mount (
    set_name               varchar(64)   not null references volume_set(name),
    member_name            varchar(64)   not null,
    mount_path             varchar(1024) not null,
    primary key (set_name, member_name)
);

-- One sample of the database's position against the set's seq: at seq, the volumes hold
-- everything of the database's log up to durable_position, and nothing past
-- bound_position. *_order is the position as a number that sorts like the log
-- (a PostgreSQL LSN; a binlog file number times 2^40 plus the offset).
create table db_position (
    set_name               varchar(64)   not null references volume_set(name),
    seq                    bigint        not null,
    time_micros            bigint        not null,
    durable_position       varchar(256)  not null,
    durable_order          bigint        not null,
    bound_position         varchar(256)  not null,
    bound_order            bigint        not null,
    gtid                   varchar(1024),
    primary key (set_name, seq, durable_order)
);
create index db_position_durable on db_position(set_name, durable_order);
create index db_position_bound on db_position(set_name, bound_order);
