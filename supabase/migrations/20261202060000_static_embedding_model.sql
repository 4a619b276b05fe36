-- The fast static model that stands in for a model until a passage has that model's
-- vector: on import every passage gets a static vector within seconds (model2vec,
-- distilled locally from the same MiniLM weights, thousands of passages a second) and the
-- quality model follows in the background; hybrid_search uses each passage's best vector.
set local lock_timeout = '5s';

alter table public.embedding_models add column static_model_id integer;
-- One row per model: validating the key reads a handful of rows.
alter table public.embedding_models
  -- squawk-ignore adding-foreign-key-constraint, constraint-missing-not-valid
  add constraint embedding_models_static_model_fk foreign key (static_model_id)
  references public.embedding_models (id);

comment on column public.embedding_models.static_model_id is
  'The static model whose vectors hybrid_search uses for a passage that has none of this '
  'model yet (null: none).';

-- Registering the row creates its HNSW index (the embedding_models trigger).
insert into public.embedding_models (provider, name, dims)
values ('local', 'static-all-MiniLM-L6-v2', 256)
on conflict (provider, name, dims) do nothing;

update public.embedding_models m
set static_model_id = s.id
from public.embedding_models s
where m.provider = 'local' and m.name = 'all-MiniLM-L6-v2' and m.dims = 384
  and s.provider = 'local' and s.name = 'static-all-MiniLM-L6-v2' and s.dims = 256;
