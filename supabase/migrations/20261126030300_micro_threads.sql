-- Micro-threads: a question asked about one passage, answered from it and its neighbours.
-- Members of the passage's workspace read them (as they read the passage); each belongs
-- to the user who asked, who alone may delete it. Answers are written by the API as the
-- user; nobody edits them afterwards.
create table public.micro_threads (
  id uuid primary key default gen_random_uuid(),
  chunk_id bigint not null,
  workspace_id uuid not null,
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  question text not null check (char_length(question) between 1 and 1000),
  answer text not null check (char_length(answer) <= 100000),
  model text check (char_length(model) <= 200),
  citations jsonb not null default '[]' check (jsonb_typeof(citations) = 'array'),
  created_at timestamptz not null default now(),
  -- The thread lives in its passage's workspace, and goes with the passage.
  foreign key (chunk_id, workspace_id)
    references public.chunks (id, workspace_id) on delete cascade
);
create index micro_threads_chunk_id_created_at_idx
  on public.micro_threads (chunk_id, created_at);
create index micro_threads_workspace_id_idx on public.micro_threads (workspace_id);
create index micro_threads_user_id_idx on public.micro_threads (user_id);

alter table public.micro_threads enable row level security;

create policy "members read micro-threads"
  on public.micro_threads for select to authenticated
  using (workspace_id in (select private.workspace_ids_for('viewer')));

create policy "members ask about passages they can read"
  on public.micro_threads for insert to authenticated
  with check (
    user_id = (select auth.uid())
    and workspace_id in (select private.workspace_ids_for('viewer'))
  );

create policy "users delete their own micro-threads"
  on public.micro_threads for delete to authenticated
  using (user_id = (select auth.uid()));

revoke all on table public.micro_threads from anon;
revoke update, truncate on table public.micro_threads from authenticated;
grant select, insert, delete on table public.micro_threads to authenticated;
