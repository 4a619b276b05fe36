-- Embeddings of passages, one row per (chunk, model). The column is an untyped `vector`;
-- each model has a partial HNSW index on `embedding::vector(<dims>)` (`halfvec` above
-- 2,000 dimensions, pgvector's limit for `vector` indexes), created when it is registered.
create table public.chunk_embeddings (
  chunk_id bigint not null,
  model_id integer not null references public.embedding_models (id) on delete cascade,
  -- The chunk's workspace, so policies and the vector search filter without a join.
  workspace_id uuid not null,
  embedding extensions.vector not null,
  primary key (chunk_id, model_id),
  foreign key (chunk_id, workspace_id)
    references public.chunks (id, workspace_id) on delete cascade
);
-- Policies read workspace_id; hybrid_search counts a caller's rows per model with it.
create index chunk_embeddings_workspace_id_model_id_idx
  on public.chunk_embeddings (workspace_id, model_id);

-- The type an embedding of this many dimensions is indexed and searched as.
create function private.embedding_type(dims integer)
returns text
language sql immutable
set search_path = ''
as $$
  select case when dims > 2000 then 'halfvec' else 'vector' end
$$;

create function private.ensure_embedding_index(model_id integer, dims integer)
returns void
language plpgsql security definer
set search_path = ''
as $$
declare
  vtype text := private.embedding_type(dims);
begin
  execute format(
    'create index if not exists %I on public.chunk_embeddings '
    'using hnsw ((embedding::extensions.%s(%s)) extensions.%s) where model_id = %s',
    'chunk_embeddings_model_' || model_id || '_hnsw',
    vtype, dims, vtype || '_cosine_ops', model_id
  );
end
$$;
revoke all on function private.ensure_embedding_index(integer, integer) from public;

create function private.index_new_embedding_model()
returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  perform private.ensure_embedding_index(new.id, new.dims);
  return null;
end
$$;
revoke all on function private.index_new_embedding_model() from public;

create trigger embedding_models_create_index
  after insert on public.embedding_models
  for each row execute function private.index_new_embedding_model();

-- Models registered before this migration (the seeded default) get their index now.
select private.ensure_embedding_index(m.id, m.dims) from public.embedding_models m;

alter table public.chunk_embeddings enable row level security;

-- Members read their workspaces' embeddings (search needs them). Only the service role
-- writes them: embedding is queue work done for no single user.
create policy "members read embeddings"
  on public.chunk_embeddings for select to authenticated
  using (workspace_id in (select private.workspace_ids_for('viewer')));

revoke all on table public.chunk_embeddings from anon;
revoke insert, update, delete, truncate on table public.chunk_embeddings from authenticated;
grant select on table public.chunk_embeddings to authenticated;
