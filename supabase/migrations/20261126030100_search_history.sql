-- The queries each user ran, for suggestions. Private to the user: nobody else, not even
-- the members of the workspace searched, can read them. The user can clear them.
create table public.search_history (
  id bigint generated always as identity primary key,
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  query text not null check (char_length(query) between 1 and 1000),
  workspace_id uuid references public.workspaces (id) on delete set null,
  created_at timestamptz not null default now()
);
create index search_history_user_id_created_at_idx
  on public.search_history (user_id, created_at desc);
create index search_history_workspace_id_idx on public.search_history (workspace_id);
-- Suggestions rank the user's past queries by trigram similarity to what they type.
create index search_history_query_trgm_idx
  on public.search_history using gin (query extensions.gin_trgm_ops);

alter table public.search_history enable row level security;

create policy "users read their own history"
  on public.search_history for select to authenticated
  using (user_id = (select auth.uid()));

-- A query is recorded against a workspace the user can read, or none.
create policy "users record their own searches"
  on public.search_history for insert to authenticated
  with check (
    user_id = (select auth.uid())
    and (workspace_id is null or workspace_id in (select private.workspace_ids_for('viewer')))
  );

create policy "users delete their own history"
  on public.search_history for delete to authenticated
  using (user_id = (select auth.uid()));

revoke all on table public.search_history from anon;
revoke update, truncate on table public.search_history from authenticated;
grant select, insert, delete on table public.search_history to authenticated;

create function public.clear_search_history()
returns bigint
language sql volatile
set search_path = ''
as $$
  with gone as (
    delete from public.search_history h where h.user_id = (select auth.uid()) returning 1
  )
  select count(*) from gone
$$;

comment on function public.clear_search_history is
  'Deletes the caller''s search history; returns how many queries were forgotten.';

revoke all on function public.clear_search_history() from public, anon;
grant execute on function public.clear_search_history() to authenticated, service_role;
