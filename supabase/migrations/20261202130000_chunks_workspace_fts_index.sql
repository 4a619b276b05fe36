-- The keyword branch of hybrid_search looks up matches within the caller's workspaces.
-- One GIN index over (workspace_id, fts) finds them directly: the workspace's entries and
-- the query's words are intersected inside the index, where a GIN on fts alone plus the
-- workspace btree built a bitmap of every match in the whole table first (for a common
-- word, most of it). A multicolumn GIN also answers a search on fts alone, so it replaces
-- chunks_fts_idx. btree_gin gives uuid a GIN operator class; it is a trusted extension,
-- available on Supabase, and created where the others are.
set local lock_timeout = '5s';

create extension if not exists btree_gin with schema extensions;

-- A migration runs in a transaction, where neither can be concurrent. Building it takes
-- ~6 s per million passages on two cores, during which writes to chunks wait; on a large
-- live table, build it concurrently by hand first (same name and definition), and this
-- statement is then skipped.
-- squawk-ignore require-concurrent-index-creation
create index if not exists chunks_workspace_id_fts_idx
  on public.chunks using gin (workspace_id, fts);
-- squawk-ignore require-concurrent-index-deletion
drop index public.chunks_fts_idx;
