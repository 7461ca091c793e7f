-- The catalog: what Rewind manages. Journal records themselves live in the
-- set's journal segments on the secondary, never here.
-- Times are microseconds since the epoch (UTC), so H2 and PostgreSQL agree.

create table physical_volume (
    name              varchar(64)   not null primary key,
    uuid              varchar(36)   not null unique,
    path              varchar(4096) not null unique,
    size_bytes        bigint        not null,
    data_offset_bytes bigint        not null,
    vg_name           varchar(64),
    pv_index          int,
    created_at_micros bigint        not null
);

create table volume_group (
    name              varchar(64) not null primary key,
    uuid              varchar(36) not null unique,
    extent_size_bytes bigint      not null,
    created_at_micros bigint      not null
);

create table logical_volume (
    vg_name           varchar(64) not null references volume_group(name),
    name              varchar(64) not null,
    uuid              varchar(36) not null unique,
    size_bytes        bigint      not null,
    created_at_micros bigint      not null,
    primary key (vg_name, name)
);

create table lv_segment (
    vg_name      varchar(64) not null,
    lv_name      varchar(64) not null,
    seg_index    int         not null,
    pv_name      varchar(64) not null references physical_volume(name),
    start_extent bigint      not null,
    extent_count bigint      not null,
    primary key (vg_name, lv_name, seg_index),
    foreign key (vg_name, lv_name) references logical_volume(vg_name, name)
);

create table volume_set (
    name               varchar(64)   not null primary key,
    uuid               varchar(36)   not null unique,
    secondary_dir      varchar(4096) not null,
    region_size_bytes  bigint        not null,
    created_at_micros  bigint        not null
);

create table set_member (
    set_name     varchar(64) not null references volume_set(name),
    member_index int         not null,
    member_name  varchar(64) not null,
    kind         varchar(8)  not null,
    vg_name      varchar(64),
    lv_name      varchar(64),
    pv_name      varchar(64),
    size_bytes   bigint      not null,
    primary key (set_name, member_index),
    unique (set_name, member_name)
);

create table bookmark (
    set_name          varchar(64)  not null references volume_set(name),
    name              varchar(128) not null,
    seq               bigint       not null,
    created_at_micros bigint       not null,
    consistent        boolean      not null,
    db_position       varchar(256),
    primary key (set_name, name)
);

create table restore_event (
    set_name          varchar(64) not null references volume_set(name),
    first_seq         bigint      not null,
    last_seq          bigint      not null,
    target_seq        bigint      not null,
    bytes_written     bigint      not null,
    finished_at_micros bigint     not null,
    primary key (set_name, first_seq)
);
