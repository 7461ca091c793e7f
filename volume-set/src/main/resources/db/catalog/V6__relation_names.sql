-- The names of the database's user tables by the files that hold them, as the position
-- sampler saw them (PostgreSQL: pg_relation_filepath of each table, its indexes and its
-- TOAST table, e.g. base/5/16384 -> shop.orders). A drop in the WAL names only the files it
-- removes; the mapping in force before it names the table. One mapping per change, taken at
-- seq on the lineage that starts at lineage_seq (as db_position), read at the log position
-- position_order (nothing committed at or after it is in the mapping).
create table db_relation_map (
    set_name               varchar(64)   not null references volume_set(name),
    seq                    bigint        not null,
    lineage_seq            bigint        not null,
    time_micros            bigint        not null,
    position_text          varchar(256)  not null,
    position_order         bigint        not null,
    primary key (set_name, seq, position_order)
);
create index db_relation_map_position on db_relation_map(set_name, position_order);

create table db_relation_name (
    set_name               varchar(64)   not null,
    seq                    bigint        not null,
    position_order         bigint        not null,
    relation_file          varchar(1024) not null,
    relation_name          varchar(1024) not null,
    primary key (set_name, seq, position_order, relation_file),
    foreign key (set_name, seq, position_order) references db_relation_map(set_name, seq, position_order)
);
