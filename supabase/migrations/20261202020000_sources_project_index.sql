-- The conversations of a project (a Claude or ChatGPT project: metadata.project_id) are
-- found by their project, for the source list's filter and for naming a conversation's
-- project after the project's own source.
set local lock_timeout = '5s';
-- squawk-ignore require-concurrent-index-creation
create index sources_project_id_idx on public.sources (workspace_id, (metadata->>'project_id'))
  where metadata ? 'project_id';
