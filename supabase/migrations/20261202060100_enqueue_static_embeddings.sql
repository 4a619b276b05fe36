-- New passages are queued for the static model of their workspace's model too, so they are
-- searchable by meaning within seconds (the worker takes static rows first).
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
  join public.embedding_models em on em.id = w.embedding_model_id
  cross join lateral (
    values (w.embedding_model_id), (w.next_embedding_model_id), (em.static_model_id)
  ) m (model_id)
  where m.model_id is not null
  on conflict do nothing;
  return null;
end
$$;
