-- Validate the widened kind check of the previous migration (a share lock that lets reads
-- and writes go on).
alter table public.sources validate constraint sources_kind_check;
