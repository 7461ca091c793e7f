-- Per-set capture settings and the catalog's copy of each set's transactions.
-- Durations are milliseconds; a null duration is "off" (for the every-write
-- horizon: keep every write forever); a zero count is "off".

create table set_settings (
    set_name               varchar(64) not null primary key references volume_set(name),
    cut_every_ms           bigint,
    cut_adaptive_min_ms    bigint,
    cut_adaptive_max_ms    bigint,
    cut_writes             bigint      not null,
    cut_bytes              bigint      not null,
    codec                  varchar(8)  not null,
    keep_every_write_ms    bigint
);

-- A mirror of transactions/transactions.log on the set's secondary, which is the
-- truth: rows are inserted at each cut and any missing ones when the set is opened.
create table transactions (
    set_name               varchar(64)   not null references volume_set(name),
    id                     bigint        not null,
    first_seq              bigint        not null,
    last_seq               bigint        not null,
    start_micros           bigint        not null,
    end_micros             bigint        not null,
    writes                 bigint        not null,
    bytes                  bigint        not null,
    reason                 varchar(16)   not null,
    codec                  varchar(8)    not null,
    extent_count           int           not null,
    forward_stored_bytes   bigint        not null,
    backward_stored_bytes  bigint        not null,
    changed_bytes          bigint        not null,
    forward_file           varchar(1024) not null,
    backward_file          varchar(1024) not null,
    primary key (set_name, id)
);
