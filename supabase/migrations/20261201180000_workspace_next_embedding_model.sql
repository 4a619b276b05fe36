-- The model a workspace is switching to. Search keeps using embedding_model_id, which has
-- every passage, while the passages are embedded with next_embedding_model_id; when the
-- last one is, the two swap (see the embedding_model_switch migration).
set local lock_timeout = '5s';

alter table public.workspaces add column next_embedding_model_id integer;
-- Validating the key reads workspaces (one row per workspace, the new column all null).
alter table public.workspaces
  -- squawk-ignore adding-foreign-key-constraint, constraint-missing-not-valid
  add constraint workspaces_next_embedding_model_fk foreign key (next_embedding_model_id)
  references public.embedding_models (id);
-- One row per workspace: building it takes a moment, not a long lock.
-- squawk-ignore require-concurrent-index-creation
create index workspaces_next_embedding_model_id_idx
  on public.workspaces (next_embedding_model_id);

-- Models change only through set_workspace_embedding_model, which re-embeds before search
-- switches, and the similarity only through set_thread_similarity: owners may still rename.
revoke update on table public.workspaces from authenticated;
grant update (name) on table public.workspaces to authenticated;
