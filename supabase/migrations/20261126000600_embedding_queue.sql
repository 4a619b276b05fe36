-- Passages waiting for an embedding with their workspace's model. Filled by triggers, so
-- every way of adding passages (importer, RPC, SQL) queues them; drained by a worker that
-- takes rows `for update skip locked` and deletes them in the transaction that stores the
-- embeddings, so a crash loses nothing and two workers never embed the same passage.
create table public.embedding_queue (
  chunk_id bigint not null,
  model_id integer not null references public.embedding_models (id) on delete cascade,
  workspace_id uuid not null,
  enqueued_at timestamptz not null default now(),
  primary key (chunk_id, model_id),
  foreign key (chunk_id, workspace_id)
    references public.chunks (id, workspace_id) on delete cascade
);
create index embedding_queue_workspace_id_idx on public.embedding_queue (workspace_id);
create index embedding_queue_enqueued_at_idx on public.embedding_queue (enqueued_at);

-- One statement-level trigger per insert statement, not one call per passage.
create function private.enqueue_new_chunks()
returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  insert into public.embedding_queue (chunk_id, model_id, workspace_id)
  select c.id, w.embedding_model_id, c.workspace_id
  from new_chunks c
  join public.workspaces w on w.id = c.workspace_id
  on conflict do nothing;
  return null;
end
$$;

create trigger chunks_enqueue_embeddings
  after insert on public.chunks
  referencing new table as new_chunks
  for each statement execute function private.enqueue_new_chunks();

-- A workspace that switches models queues its passages for the new one.
create function private.enqueue_workspace_reembedding()
returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  insert into public.embedding_queue (chunk_id, model_id, workspace_id)
  select c.id, new.embedding_model_id, c.workspace_id
  from public.chunks c
  where c.workspace_id = new.id
    and not exists (
      select from public.chunk_embeddings e
      where e.chunk_id = c.id and e.model_id = new.embedding_model_id
    )
  on conflict do nothing;
  return null;
end
$$;

create trigger workspaces_enqueue_reembedding
  after update of embedding_model_id on public.workspaces
  for each row
  when (old.embedding_model_id is distinct from new.embedding_model_id)
  execute function private.enqueue_workspace_reembedding();

revoke all on function private.enqueue_new_chunks() from public;
revoke all on function private.enqueue_workspace_reembedding() from public;

alter table public.embedding_queue enable row level security;

-- Members may see what is still waiting (embedding progress); only the service role
-- (the worker) and the triggers above write.
create policy "members read their queue"
  on public.embedding_queue for select to authenticated
  using (workspace_id in (select private.workspace_ids_for('viewer')));

revoke all on table public.embedding_queue from anon;
revoke insert, update, delete, truncate on table public.embedding_queue from authenticated;
grant select on table public.embedding_queue to authenticated;
