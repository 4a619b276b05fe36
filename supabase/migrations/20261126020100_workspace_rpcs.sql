-- Workspaces and embedding models through RPC: what the settings page reads and changes.

create function public.list_workspaces()
returns table (
  id uuid,
  name text,
  is_personal boolean,
  role public.workspace_role,
  embedding_model_id integer,
  created_at timestamptz
)
language sql stable
set search_path = ''
as $$
  select w.id, w.name, w.is_personal, m.role, w.embedding_model_id, w.created_at
  from public.workspaces w
  join public.workspace_members m on m.workspace_id = w.id and m.user_id = (select auth.uid())
  order by w.is_personal desc, w.name
$$;

create function public.list_embedding_models()
returns table (id integer, provider text, name text, dims integer, is_default boolean)
language sql stable
set search_path = ''
as $$
  select m.id, m.provider, m.name, m.dims, m.is_default
  from public.embedding_models m
  order by m.is_default desc, m.provider, m.name
$$;

-- Switching queues the workspace's passages for the new model (see embedding_queue).
create function public.set_workspace_embedding_model(workspace_id uuid, model_id integer)
returns boolean
language sql volatile
set search_path = ''
as $$
  with changed as (
    update public.workspaces w set embedding_model_id = set_workspace_embedding_model.model_id
    where w.id = set_workspace_embedding_model.workspace_id
    returning 1
  )
  select exists (select from changed)
$$;

comment on function public.set_workspace_embedding_model is
  'Owners only (RLS); false if the caller does not own the workspace.';

revoke all on function public.list_workspaces() from public, anon;
revoke all on function public.list_embedding_models() from public, anon;
revoke all on function public.set_workspace_embedding_model(uuid, integer) from public, anon;
grant execute on function public.list_workspaces() to authenticated, service_role;
grant execute on function public.list_embedding_models() to authenticated, service_role;
grant execute on function public.set_workspace_embedding_model(uuid, integer)
  to authenticated, service_role;
