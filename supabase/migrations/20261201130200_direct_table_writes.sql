-- What `anon` and `authenticated` may do to tables directly (PostgREST serves every table
-- of public at /rest/v1/<table>); docs/ACCESS.md lists the result. Writes the database
-- cannot validate go through RPCs (security definer, with their own checks) or the API
-- (role knitter_api, still under RLS as the user).
revoke all on all tables in schema public from anon;

-- Workspaces: created through create_workspace(); renamed and switched to another
-- embedding model by owners. Ownership and the personal flag never change by hand.
revoke insert, update on table public.workspaces from authenticated;
grant update (name, embedding_model_id) on table public.workspaces to authenticated;

-- Members join only by accepting an invitation; roles change through the member RPCs.
revoke insert, update, delete on table public.workspace_members from authenticated;

-- Sources and passages are written by the API (within the upload limits) as the user;
-- editors delete sources (and with them their passages) and move them between threads.
revoke insert, update on table public.sources from authenticated;
grant update (thread_id) on table public.sources to authenticated;
revoke insert, update, delete on table public.chunks from authenticated;
grant insert, update, delete on table public.sources, public.chunks to knitter_api;

-- Import jobs: their state is the API's alone.
revoke insert, update on table public.import_jobs from authenticated;
grant insert, update on table public.import_jobs to knitter_api;

-- Micro-thread answers are written by a model, through the API.
revoke insert on table public.micro_threads from authenticated;
grant insert on table public.micro_threads to knitter_api;

-- Topic threads: editors group, split, merge and title them; summaries are the API's.
revoke insert, update on table public.topic_threads from authenticated;
grant insert (id, workspace_id, title, title_source, model_id, centroid)
  on table public.topic_threads to authenticated;
grant update (title, title_source, model_id, centroid, updated_at)
  on table public.topic_threads to authenticated;
grant insert, update on table public.topic_threads to knitter_api;
