-- The retention rules of a set after its every-write horizon, as written after --keep
-- (e.g. "transactions:7d,hourly:30d,daily:1y,bookmarks:90d,consistent:forever"); null keeps
-- every transaction boundary, as sets did before these rules.

alter table set_settings add column keep_rules varchar(512);

-- The most the set's secondary may hold (bytes; null: no limit): past it, retention fades out
-- the oldest points beyond what the rules keep until it fits (never the newest, the
-- every-write history or a point something reads).

alter table set_settings add column keep_max_bytes bigint;
