-- Security definer functions that check a workspace with `x not in (the caller's
-- workspaces)` let a null workspace through (null not in (...) is null, so the refusal is
-- skipped): set_workspace_embedding_model(null, m) and set_thread_similarity(null, s)
-- answered true to anyone, guests included, having changed nothing. A null workspace is
-- now no workspace of the caller's: false, and 42501 for the similarity, as for any other
-- workspace they cannot edit.
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
  if ws_id is null or ws_id not in (select private.workspace_ids_for('viewer')) then
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

create or replace function public.set_thread_similarity(workspace_id uuid, similarity double precision)
returns boolean
language plpgsql volatile security definer
set search_path = ''
as $$
begin
  if set_thread_similarity.workspace_id is null
     or set_thread_similarity.workspace_id not in (select private.workspace_ids_for('editor'))
  then
    raise exception 'only editors can change how threads are grouped' using errcode = '42501';
  end if;
  update public.workspaces w set thread_similarity = set_thread_similarity.similarity
  where w.id = set_thread_similarity.workspace_id;
  return true;
end
$$;
