-- The lineage a position sample was taken on: the first seq of the stretch of the set's
-- history it belongs to (1, or the seq after the writes of the newest restore in place
-- before it). A restore in place starts a new lineage; a sample counts for a database
-- position only while its seq is still in the set's history on that same stretch.
-- Samples taken before this column existed get the lineage their seq had then: the seq
-- after the newest restore that began at or before it.
alter table db_position add column lineage_seq bigint default 1 not null;

update db_position p set lineage_seq = 1 + coalesce((
    select max(case when r.last_seq > r.first_seq - 1 then r.last_seq else r.first_seq - 1 end)
    from restore_event r where r.set_name = p.set_name and r.first_seq <= p.seq), 0);
