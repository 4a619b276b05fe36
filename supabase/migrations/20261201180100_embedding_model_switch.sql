-- Switching a workspace's embedding model with no gap in meaning search. The switch sets
-- next_embedding_model_id and queues every passage without a vector of that model; new
-- passages are queued for both models meanwhile; search keeps embedding_model_id, whose
-- vectors are complete. When the worker deletes the workspace's last queue row of the new
-- model (in the transaction that stores its vector), the models swap and the workspace's
-- topic threads get centroids in the new model's space. Switching back, or to a third
-- model, mid-way drops the queue rows of the one given up.
set local lock_timeout = '5s';

-- New passages are queued for the workspace's model and, during a switch, the next one.
create or replace function private.enqueue_new_chunks()
returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  insert into public.embedding_queue (chunk_id, model_id, workspace_id)
  select c.id, m.model_id, c.workspace_id
  from new_chunks c
  join public.workspaces w on w.id = c.workspace_id
  cross join lateral (values (w.embedding_model_id), (w.next_embedding_model_id)) m (model_id)
  where m.model_id is not null
  on conflict do nothing;
  return null;
end
$$;

-- Swaps in the next model of each workspace with none of its passages left to embed.
create function private.finish_embedding_switches(workspace_ids uuid[])
returns void
language plpgsql security definer
set search_path = ''
as $$
declare
  ws record;
begin
  -- Locked in id order: two workers that delete a workspace's last rows at once wait for
  -- each other here, so the second one's check (a fresh snapshot) sees the first's commit.
  for ws in
    select w.id, w.embedding_model_id as old_model, w.next_embedding_model_id as new_model
    from public.workspaces w
    where w.id = any (workspace_ids) and w.next_embedding_model_id is not null
    order by w.id
    for update
  loop
    if not exists (
      select from public.embedding_queue q
      where q.workspace_id = ws.id and q.model_id = ws.new_model
    ) then
      update public.workspaces w
      set embedding_model_id = ws.new_model, next_embedding_model_id = null
      where w.id = ws.id;
      -- Passages still waiting for the old model are not needed any more.
      delete from public.embedding_queue q
      where q.workspace_id = ws.id and q.model_id = ws.old_model;
      -- Topic threads move to the new model's space, so new conversations still join them.
      perform private.refresh_thread_centroids(array(
        select t.id from public.topic_threads t where t.workspace_id = ws.id
      ));
    end if;
  end loop;
end
$$;
revoke all on function private.finish_embedding_switches(uuid[]) from public;

create function private.finish_embedding_switches_after_delete()
returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  perform private.finish_embedding_switches(array(
    select distinct o.workspace_id
    from old_rows o
    join public.workspaces w on w.id = o.workspace_id and w.next_embedding_model_id = o.model_id
  ));
  return null;
end
$$;
revoke all on function private.finish_embedding_switches_after_delete() from public;

create trigger embedding_queue_finish_switches
  after delete on public.embedding_queue
  referencing old table as old_rows
  for each statement execute function private.finish_embedding_switches_after_delete();

-- Security definer: editors and owners choose their workspace's model, while the model
-- columns of workspaces are written by nothing else.
create or replace function public.set_workspace_embedding_model(workspace_id uuid, model_id integer)
returns boolean
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  ws_id uuid := set_workspace_embedding_model.workspace_id;
  target integer := set_workspace_embedding_model.model_id;
  ws record;
begin
  if ws_id not in (select private.workspace_ids_for('viewer')) then
    return false;
  end if;
  if ws_id not in (select private.workspace_ids_for('editor')) then
    raise exception 'only editors and owners can change a workspace''s embedding model'
      using errcode = '42501';
  end if;
  if not exists (select from public.embedding_models m where m.id = target) then
    raise exception 'embedding model % does not exist', target using errcode = '22023';
  end if;
  -- For update: waits for imports in flight (their source's foreign key holds a key-share
  -- lock on this row), so the queueing below sees their passages, and later ones see the
  -- next model when their passages are queued.
  select w.embedding_model_id as current_model, w.next_embedding_model_id as next_model
  into ws
  from public.workspaces w where w.id = ws_id
  for update;

  if target = ws.next_model then
    return true;  -- under way already
  end if;

  update public.workspaces w
  set next_embedding_model_id = nullif(target, ws.current_model)
  where w.id = ws_id;
  -- A switch given up (back to the current model, or on to another): its rows go, but
  -- those a worker is embedding right now (it deletes them itself): waiting for that
  -- worker while holding the workspace row it locks when it finishes would deadlock. The
  -- next model is already changed, so these deletes swap nothing in.
  if ws.next_model is not null then
    delete from public.embedding_queue q
    where (q.chunk_id, q.model_id) in (
      select l.chunk_id, l.model_id from public.embedding_queue l
      where l.workspace_id = ws_id and l.model_id = ws.next_model
      for update skip locked
    );
  end if;
  if target = ws.current_model then
    return true;
  end if;

  insert into public.embedding_queue (chunk_id, model_id, workspace_id)
  select c.id, target, c.workspace_id
  from public.chunks c
  where c.workspace_id = ws_id
    and not exists (
      select from public.chunk_embeddings e where e.chunk_id = c.id and e.model_id = target
    )
  on conflict do nothing;
  -- Nothing to embed (an empty workspace, or vectors kept from an earlier switch): now.
  perform private.finish_embedding_switches(array[ws_id]);
  return true;
end
$$;

comment on function public.set_workspace_embedding_model is
  'Switches the workspace to the model: its passages are re-embedded in the background and '
  'search keeps the current model until every passage has a vector of the new one. The '
  'current model cancels a switch under way. Editors and owners; false if the caller is '
  'no member.';

-- What the settings page shows while a switch is under way: "re-embedding N / M".
create function public.workspace_embedding_status(workspace_id uuid)
returns table (
  model_id integer,
  next_model_id integer,
  passages bigint,
  embedded bigint
)
language sql stable
set search_path = ''
as $$
  select w.embedding_model_id, w.next_embedding_model_id,
         (select count(*) from public.chunks c where c.workspace_id = w.id),
         (select count(*) from public.chunk_embeddings e
          where e.workspace_id = w.id
            and e.model_id = coalesce(w.next_embedding_model_id, w.embedding_model_id))
  from public.workspaces w
  where w.id = workspace_embedding_status.workspace_id
$$;

comment on function public.workspace_embedding_status is
  'The workspace''s model, the model it is switching to (null when none), its passages and '
  'how many have a vector of the model it is switching to (else of its model).';

revoke all on function public.workspace_embedding_status(uuid) from public, anon;
grant execute on function public.workspace_embedding_status(uuid) to authenticated, service_role;
