-- Sources (one imported conversation or document) and their passages ("chunks") in
-- reading order. Chunks carry their workspace so policies and search filters need no join.
create table public.sources (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  kind text not null check (kind in (
    'chatgpt_export', 'chatgpt_share', 'claude_export', 'gemini_takeout', 'gemini_pdf',
    'youtube', 'pdf', 'text', 'markdown', 'html'
  )),
  platform text not null check (platform ~ '^[a-z][a-z0-9_-]{0,31}$'),
  title text not null default '' check (char_length(title) <= 1000),
  url text check (char_length(url) <= 4000),
  external_id text check (char_length(external_id) <= 500),
  content_hash text not null check (content_hash ~ '^[0-9a-f]{64}$'),
  started_at timestamptz,
  imported_at timestamptz not null default now(),
  metadata jsonb not null default '{}',
  summary text,
  key_topics text[] not null default '{}',
  -- Re-importing the same conversation or file adds nothing.
  constraint sources_unique_external_id unique (workspace_id, kind, external_id),
  constraint sources_unique_content unique (workspace_id, content_hash),
  -- Target of the chunks' composite key, which keeps chunk and source in one workspace.
  constraint sources_id_workspace_key unique (id, workspace_id)
);
create index sources_created_by_idx on public.sources (created_by);

create table public.chunks (
  id bigint generated always as identity primary key,
  source_id uuid not null,
  workspace_id uuid not null,
  message_index integer not null check (message_index >= 0),
  chunk_index integer not null check (chunk_index >= 0),
  role text not null check (role in ('user', 'assistant', 'system', 'tool', 'speaker', 'document')),
  author text,
  model text,
  created_at timestamptz,
  content text not null check (char_length(content) between 1 and 100000),
  token_count integer not null check (token_count >= 0),
  metadata jsonb not null default '{}',
  fts tsvector generated always as (to_tsvector('english', content)) stored,
  foreign key (source_id, workspace_id)
    references public.sources (id, workspace_id) on delete cascade,
  unique (source_id, message_index, chunk_index),
  -- Target of chunk_embeddings' composite key.
  unique (id, workspace_id)
);
create index chunks_workspace_id_idx on public.chunks (workspace_id);
create index chunks_fts_idx on public.chunks using gin (fts);

alter table public.sources enable row level security;
alter table public.chunks enable row level security;

create policy "members read sources"
  on public.sources for select to authenticated
  using (workspace_id in (select private.workspace_ids_for('viewer')));
create policy "editors add sources"
  on public.sources for insert to authenticated
  with check (workspace_id in (select private.workspace_ids_for('editor')));
create policy "editors change sources"
  on public.sources for update to authenticated
  using (workspace_id in (select private.workspace_ids_for('editor')))
  with check (workspace_id in (select private.workspace_ids_for('editor')));
create policy "editors delete sources"
  on public.sources for delete to authenticated
  using (workspace_id in (select private.workspace_ids_for('editor')));

create policy "members read chunks"
  on public.chunks for select to authenticated
  using (workspace_id in (select private.workspace_ids_for('viewer')));
create policy "editors add chunks"
  on public.chunks for insert to authenticated
  with check (workspace_id in (select private.workspace_ids_for('editor')));
create policy "editors change chunks"
  on public.chunks for update to authenticated
  using (workspace_id in (select private.workspace_ids_for('editor')))
  with check (workspace_id in (select private.workspace_ids_for('editor')));
create policy "editors delete chunks"
  on public.chunks for delete to authenticated
  using (workspace_id in (select private.workspace_ids_for('editor')));

revoke all on table public.sources, public.chunks from anon;
grant select, insert, update, delete on table public.sources, public.chunks to authenticated;
