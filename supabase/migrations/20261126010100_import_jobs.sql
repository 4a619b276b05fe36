-- Imports submitted to the API: status, counts, per-item errors and progress while running.
create table public.import_jobs (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  status text not null default 'queued'
    check (status in ('queued', 'running', 'succeeded', 'failed')),
  items_total integer not null default 0 check (items_total >= 0),
  items_done integer not null default 0 check (items_done >= 0),
  added integer not null default 0,
  updated integer not null default 0,
  skipped integer not null default 0,
  failed integer not null default 0,
  passages integer not null default 0,
  errors jsonb not null default '[]' check (jsonb_typeof(errors) = 'array'),
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz
);
create index import_jobs_user_id_idx on public.import_jobs (user_id);
create index import_jobs_workspace_id_idx on public.import_jobs (workspace_id);

alter table public.import_jobs enable row level security;

-- A job belongs to the user who started it, in a workspace they may write to.
create policy "users read their jobs"
  on public.import_jobs for select to authenticated
  using (user_id = (select auth.uid()));

create policy "editors start jobs"
  on public.import_jobs for insert to authenticated
  with check (
    user_id = (select auth.uid())
    and workspace_id in (select private.workspace_ids_for('editor'))
  );

create policy "users update their jobs"
  on public.import_jobs for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));

revoke all on table public.import_jobs from anon;
grant select, insert, update on table public.import_jobs to authenticated;
