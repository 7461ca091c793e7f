-- The retention rules of a set after its every-write horizon, as written after --keep
-- (e.g. "transactions:7d,hourly:30d,daily:1y,bookmarks:90d,consistent:forever"); null keeps
-- every transaction boundary, as sets did before these rules.

alter table set_settings add column keep_rules varchar(512);
