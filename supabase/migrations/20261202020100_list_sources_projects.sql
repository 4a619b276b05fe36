-- The source list shows which project a conversation belongs to and lists one project's
-- sources: project_id and the project's name (the conversation's own, else its project's
-- source's, as Claude's projects.json names projects its conversations.json does not),
-- whether the source is the project itself (its description, instructions, documents),
-- and the custom assistant the chat was with (a ChatGPT custom GPT, a Gemini Gem).
-- The new signature takes every call the old one did (project_id defaults to null), and
-- both statements run in one transaction: no client sees the function missing.
-- squawk-ignore ban-drop-function
drop function public.list_sources(uuid, integer, integer);

create function public.list_sources(
  workspace_id uuid default null,
  max_rows integer default 50,
  skip_rows integer default 0,
  project_id text default null
)
returns table (
  id uuid,
  workspace_id uuid,
  kind text,
  platform text,
  title text,
  url text,
  started_at timestamptz,
  imported_at timestamptz,
  passages bigint,
  project_id text,
  project text,
  is_project boolean,
  assistant text
)
language sql stable
set search_path = ''
as $$
  select s.id, s.workspace_id, s.kind, s.platform, s.title, s.url, s.started_at,
         s.imported_at, (select count(*) from public.chunks c where c.source_id = s.id),
         s.metadata->>'project_id',
         coalesce(
           nullif(s.metadata->>'project', ''),
           (select nullif(p.metadata->>'project', '') from public.sources p
            where p.workspace_id = s.workspace_id and p.metadata ? 'project_id'
              and p.metadata->>'project_id' = s.metadata->>'project_id'
              and p.metadata ? 'is_project'
            limit 1)
         ),
         coalesce((s.metadata->>'is_project')::boolean, false),
         coalesce(s.metadata->>'gizmo', s.metadata->>'gem', s.metadata->>'gizmo_id')
  from public.sources s
  where (list_sources.workspace_id is null or s.workspace_id = list_sources.workspace_id)
    and (list_sources.project_id is null
         or (s.metadata ? 'project_id' and s.metadata->>'project_id' = list_sources.project_id))
  order by coalesce(s.started_at, s.imported_at) desc, s.id
  limit least(greatest(max_rows, 1), 200) offset greatest(skip_rows, 0)
$$;

comment on function public.list_sources is
  'The caller''s sources, newest first, with their passage counts and project (max_rows at'
  ' most 200); with project_id, only that project''s sources.';

revoke all on function public.list_sources(uuid, integer, integer, text) from public, anon;
grant execute on function public.list_sources(uuid, integer, integer, text)
  to authenticated, service_role;
