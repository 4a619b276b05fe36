-- Workspaces and their members. Everything a user owns hangs off a workspace; each new
-- user gets a personal one.
create schema if not exists private;
grant usage on schema private to authenticated, service_role;

-- Declared weakest first, so `role >= 'editor'` means "editor or owner".
create type public.workspace_role as enum ('viewer', 'editor', 'owner');

create table public.workspaces (
  id uuid primary key default gen_random_uuid(),
  name text not null check (char_length(name) between 1 and 200),
  owner_id uuid not null references auth.users (id) on delete cascade,
  is_personal boolean not null default false,
  embedding_model_id integer not null references public.embedding_models (id),
  created_at timestamptz not null default now()
);
create index workspaces_owner_id_idx on public.workspaces (owner_id);
create index workspaces_embedding_model_id_idx on public.workspaces (embedding_model_id);
create unique index workspaces_one_personal_per_user on public.workspaces (owner_id)
  where is_personal;

create table public.workspace_members (
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role public.workspace_role not null default 'viewer',
  created_at timestamptz not null default now(),
  primary key (workspace_id, user_id)
);
create index workspace_members_user_id_idx on public.workspace_members (user_id);

-- The one membership test every policy uses. Security definer so that policies on
-- workspace_members do not recurse into themselves; policies call it as
-- `workspace_id in (select private.workspace_ids_for(...))`, evaluated once per statement.
create function private.workspace_ids_for(min_role public.workspace_role)
returns setof uuid
language sql stable security definer
set search_path = ''
as $$
  select m.workspace_id
  from public.workspace_members m
  where m.user_id = (select auth.uid())
    and m.role >= min_role
$$;
revoke all on function private.workspace_ids_for(public.workspace_role) from public;
grant execute on function private.workspace_ids_for(public.workspace_role)
  to authenticated, service_role;

-- New workspaces start with the default embedding model unless one is given.
create function private.set_default_embedding_model()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.embedding_model_id is null then
    select m.id into new.embedding_model_id
    from public.embedding_models m
    where m.is_default;
  end if;
  return new;
end
$$;

create trigger workspaces_default_embedding_model
  before insert on public.workspaces
  for each row execute function private.set_default_embedding_model();

-- Whoever creates a workspace owns it.
create function private.add_workspace_owner()
returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  insert into public.workspace_members (workspace_id, user_id, role)
  values (new.id, new.owner_id, 'owner');
  return null;
end
$$;

create trigger workspaces_add_owner
  after insert on public.workspaces
  for each row execute function private.add_workspace_owner();

-- Every new user, guests included, gets a personal workspace.
create function private.create_personal_workspace()
returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  insert into public.workspaces (name, owner_id, is_personal)
  values ('Personal', new.id, true);
  return null;
end
$$;

create trigger on_auth_user_created_personal_workspace
  after insert on auth.users
  for each row execute function private.create_personal_workspace();

revoke all on function private.set_default_embedding_model() from public;
revoke all on function private.add_workspace_owner() from public;
revoke all on function private.create_personal_workspace() from public;

alter table public.workspaces enable row level security;
alter table public.workspace_members enable row level security;

-- The owner clause lets `insert ... returning` see the row before its owner membership
-- (added by an after trigger) exists.
create policy "members read their workspaces"
  on public.workspaces for select to authenticated
  using (
    owner_id = (select auth.uid())
    or id in (select private.workspace_ids_for('viewer'))
  );

create policy "users create team workspaces they own"
  on public.workspaces for insert to authenticated
  with check (owner_id = (select auth.uid()) and not is_personal);

create policy "owners update their workspaces"
  on public.workspaces for update to authenticated
  using (id in (select private.workspace_ids_for('owner')))
  with check (owner_id = (select auth.uid()));

create policy "owners delete their team workspaces"
  on public.workspaces for delete to authenticated
  using (id in (select private.workspace_ids_for('owner')) and not is_personal);

create policy "members read the member list"
  on public.workspace_members for select to authenticated
  using (workspace_id in (select private.workspace_ids_for('viewer')));

create policy "owners add members"
  on public.workspace_members for insert to authenticated
  with check (workspace_id in (select private.workspace_ids_for('owner')));

create policy "owners change members"
  on public.workspace_members for update to authenticated
  using (workspace_id in (select private.workspace_ids_for('owner')))
  with check (workspace_id in (select private.workspace_ids_for('owner')));

create policy "owners remove members"
  on public.workspace_members for delete to authenticated
  using (workspace_id in (select private.workspace_ids_for('owner')));

revoke all on table public.workspaces, public.workspace_members from anon;
grant select, insert, update, delete on table public.workspaces, public.workspace_members
  to authenticated;
