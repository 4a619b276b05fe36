-- Suggestions while typing: the caller's past queries and the titles of the sources they
-- can read (RLS decides), ranked prefix matches first, then matches at a word start, then
-- by trigram word similarity; one row per distinct text (case-insensitive), past queries
-- winning ties. An empty prefix gives the most recent past queries.
create function public.search_suggestions(prefix text, max_rows integer default 8)
returns table (suggestion text, kind text, score real)
language sql stable
set search_path = ''
as $$
  with input as (
    select lower(btrim(coalesce(prefix, ''))) as p,
           -- The prefix as a LIKE pattern that matches it literally.
           replace(replace(replace(lower(btrim(coalesce(prefix, ''))), '\', '\\'), '%', '\%'),
                   '_', '\_') as pat
  ),
  candidates as (
    select h.query as suggestion, 'history'::text as kind, max(h.created_at) as last_seen
    from public.search_history h
    where h.user_id = (select auth.uid())
    group by h.query
    union all
    select s.title, 'source', max(coalesce(s.started_at, s.imported_at))
    from public.sources s
    where s.title <> ''
    group by s.title
  ),
  scored as (
    select c.suggestion, c.kind, c.last_seen,
           case
             when i.p = '' then 1
             when lower(c.suggestion) like i.pat || '%' then 3
             when lower(c.suggestion) ~ ('\m' || regexp_replace(i.p, '([^[:alnum:][:space:]])', '\\\1', 'g')) then 2
             when extensions.word_similarity(i.p, lower(c.suggestion)) >= 0.4 then 1
             else 0
           end as tier,
           case when i.p = '' then 1
                else extensions.word_similarity(i.p, lower(c.suggestion)) end as sim
    from candidates c cross join input i
    where i.p <> '' or c.kind = 'history'
  ),
  deduplicated as (
    select distinct on (lower(s.suggestion)) s.suggestion, s.kind, s.tier, s.sim, s.last_seen
    from scored s
    where s.tier > 0
    order by lower(s.suggestion), s.tier desc, (s.kind = 'history') desc, s.last_seen desc
  )
  select d.suggestion, d.kind, (d.tier + d.sim)::real as score
  from deduplicated d
  order by d.tier desc, d.sim desc, (d.kind = 'history') desc, d.last_seen desc, d.suggestion
  limit least(greatest(coalesce(max_rows, 8), 1), 50)
$$;

comment on function public.search_suggestions is
  'Completions for a search box: the caller''s past queries and readable source titles.';

revoke all on function public.search_suggestions(text, integer) from public, anon;
grant execute on function public.search_suggestions(text, integer) to authenticated, service_role;
