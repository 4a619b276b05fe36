-- An exact scan of the vector branch computed each distance twice: once for the output
-- column, once more for the "+ 0" it was ordered by (so that no index could serve it).
-- Ordering by the output column computes it once; the exact scan uses the plain column,
-- which no index orders by (the model's partial index is on the column cast to the model's
-- type), so it needs no "+ 0" and no cast a row. The same rows in the same order, 17%
-- less time for an exact scan of 10,000 384-dimension vectors (docs/PERFORMANCE.md); the
-- index scans are unchanged.
set local lock_timeout = '5s';

create or replace function private.hybrid_search(
  query_text text,
  query_embedding extensions.vector default null,
  model_id integer default null,
  match_count integer default 10,
  full_text_weight double precision default 1,
  semantic_weight double precision default 1,
  rrf_k integer default 50,
  filters jsonb default '{}',
  static_embedding extensions.vector default null
)
returns table (
  chunk_id bigint,
  source_id uuid,
  workspace_id uuid,
  source_title text,
  platform text,
  kind text,
  url text,
  role text,
  author text,
  created_at timestamptz,
  message_index integer,
  chunk_index integer,
  content text,
  snippet text,
  score double precision,
  keyword_rank integer,
  keyword_score real,
  semantic_rank integer,
  semantic_score double precision,
  semantic_model_id integer
)
language plpgsql
stable
set search_path = ''
as $$
declare
  -- Callers who can see at most this many embeddings are ranked exactly, without the
  -- index: an exact scan costs ~1 µs a row and is perfect, while a filtered HNSW scan over
  -- a small share of a big table misses rows (see docs/PERFORMANCE.md).
  exact_scan_limit constant integer := 20000;
  f jsonb := coalesce(filters, '{}');
  q text := coalesce(query_text, '');
  folded text;
  tsq tsquery;
  candidates integer := greatest(match_count * 4, 40);
  mid integer := hybrid_search.model_id;
  model public.embedding_models;
  -- The distance as the model's partial index has it (the column cast to the model's
  -- type), for a scan the index orders; the plain column's for an exact scan, which no
  -- index orders by.
  indexed_distance text;
  exact_distance constant text := 'e.embedding operator(extensions.<=>) $1';
  scope uuid[];
  row_filter text := '';
  row_joins text := '';
  workspace_filter text := '';
  semantic_template text;
  visible integer;
  sem_ids bigint[] := '{}';
  sem_dists double precision[] := '{}';
  static_model public.embedding_models;
  static_template text;
  backlog integer;
  st_ids bigint[] := '{}';
  st_dists double precision[] := '{}';
  -- Each model's cosine on one scale (0: a typical unrelated passage, 1: a typical
  -- answer), so passages matched through different models are ranked in one list. Raw
  -- cosine unless both models are calibrated.
  model_zero double precision := 0;
  model_unit double precision := 1;
  static_zero double precision := 0;
  static_unit double precision := 1;
  keyword_sql text := 'select null::bigint as id, null::real as kscore, null::bigint as rank where false';
  bad_key text;
  -- Other versions of messages (edits, regenerations: chunks whose metadata names the
  -- message they are a version of) are found only when asked for.
  alternatives boolean := false;
  alternative_filter text := ' and not c.metadata ? ''alternative_of''';
begin
  if match_count is null or match_count not between 1 and 200 then
    raise exception 'match_count must be between 1 and 200' using errcode = '22023';
  end if;
  if char_length(query_text) > 1000 then
    raise exception 'query_text must be at most 1000 characters' using errcode = '22023';
  end if;
  if full_text_weight is null or full_text_weight < 0
     or semantic_weight is null or semantic_weight < 0 then
    raise exception 'weights must be zero or more' using errcode = '22023';
  end if;
  if rrf_k is null or rrf_k < 1 then
    raise exception 'rrf_k must be at least 1' using errcode = '22023';
  end if;
  if jsonb_typeof(f) <> 'object' then
    raise exception 'filters must be a JSON object' using errcode = '22023';
  end if;
  select k into bad_key from jsonb_object_keys(f) k
  where k not in ('workspace_id', 'source_id', 'platform', 'kind', 'role', 'date_from', 'date_to',
                  'include_alternatives')
  limit 1;
  if bad_key is not null then
    raise exception 'unknown filter "%"', bad_key
      using errcode = '22023',
            hint = 'filters: workspace_id, source_id, platform, kind, role, date_from, date_to, '
                   'include_alternatives';
  end if;
  if f ? 'include_alternatives' then
    if jsonb_typeof(f -> 'include_alternatives') <> 'boolean' then
      raise exception 'filter "include_alternatives" must be true or false' using errcode = '22023';
    end if;
    alternatives := (f ->> 'include_alternatives')::boolean;
  end if;
  if alternatives then
    alternative_filter := '';
  end if;

  -- The workspaces to search: the requested ones, narrowed to the caller's own. RLS
  -- enforces the same; saying it explicitly lets the planner use workspace indexes.
  if f ? 'workspace_id' then
    scope := private.filter_values(f -> 'workspace_id', 'workspace_id')::uuid[];
  end if;
  if (select auth.uid()) is not null then
    scope := array(
      select w from private.workspace_ids_for('viewer') w
      where scope is null or w = any (scope)
    );
  end if;
  if f ? 'source_id' then
    row_filter := row_filter || format(' and c.source_id = any (%L::uuid[])',
                                       private.filter_values(f -> 'source_id', 'source_id'));
  end if;
  if f ? 'role' then
    row_filter := row_filter || format(' and c.role = any (%L::text[])',
                                       private.filter_values(f -> 'role', 'role'));
  end if;
  if f ? 'platform' then
    row_filter := row_filter || format(' and s.platform = any (%L::text[])',
                                       private.filter_values(f -> 'platform', 'platform'));
  end if;
  if f ? 'kind' then
    row_filter := row_filter || format(' and s.kind = any (%L::text[])',
                                       private.filter_values(f -> 'kind', 'kind'));
  end if;
  if f ? 'date_from' then
    row_filter := row_filter || format(' and c.created_at >= %L::timestamptz', f ->> 'date_from');
  end if;
  if f ? 'date_to' then
    row_filter := row_filter || format(' and c.created_at < %L::timestamptz', f ->> 'date_to');
  end if;

  -- websearch_to_tsquery pushes one NOT per "-" (skipping the operator characters between
  -- them); 32 in a row overflow its stack, an internal error ("tsquery stack too small").
  -- Fold each run to what it means, as api.search.hybrid.keyword_query does: a pair of
  -- negations negates nothing.
  loop
    folded := regexp_replace(q, '-[[:space:]!()&|<>]*-', ' ', 'g');
    exit when folded = q;
    q := folded;
  end loop;
  begin
    tsq := websearch_to_tsquery('english', q);
  exception when internal_error then
    raise exception 'query_text has too many search operators in a row'
      using errcode = '22023';
  end;

  -- Plain words match passages with any of them, ranked by how many they have (see the
  -- top of this file): a question rarely shares every word with its answer. Quotes, "or"
  -- and "-" keep websearch_to_tsquery's own meaning.
  if q !~* '"|\mor\M|(^|\s)-' then
    tsq := replace(tsq::text, ' & ', ' | ')::tsquery;
  end if;

  if (query_embedding is null and numnode(tsq) = 0) or cardinality(scope) = 0 then
    return;  -- nothing to search for, or nowhere to search
  end if;

  if query_embedding is not null and semantic_weight > 0 then
    if mid is null then
      if f ? 'workspace_id' and cardinality(scope) = 1 then
        select w.embedding_model_id into mid from public.workspaces w where w.id = scope[1];
      end if;
      if mid is null then
        raise exception 'model_id is required with query_embedding'
          using errcode = '22023',
                hint = 'pass model_id, or filter on one workspace to use its model';
      end if;
    end if;
    select * into model from public.embedding_models m where m.id = mid;
    if not found then
      raise exception 'embedding model % does not exist', mid using errcode = '22023';
    end if;
    if extensions.vector_dims(query_embedding) <> model.dims then
      raise exception 'query_embedding has % dimensions; model % (%) has %',
        extensions.vector_dims(query_embedding), model.id, model.name, model.dims
        using errcode = '22023';
    end if;

    indexed_distance := format(
      'e.embedding::extensions.%1$s(%2$s) operator(extensions.<=>) $1::extensions.%1$s(%2$s)',
      private.embedding_type(model.dims), model.dims);
    if scope is not null then
      workspace_filter := ' and e.workspace_id = any ($4)';
    end if;
    if row_filter <> '' then
      row_joins := 'join public.chunks c on c.id = e.chunk_id'
                   ' join public.sources s on s.id = c.source_id';
    end if;
    semantic_template := $q$
      select coalesce(array_agg(v.id order by v.dist, v.id), '{}'),
             coalesce(array_agg(v.dist order by v.dist, v.id), '{}')
      from (
        -- Ordered by the output column, so each row's distance is computed once.
        select e.chunk_id as id, %1$s as dist
        from public.chunk_embeddings e %2$s
        where e.model_id = $2 %3$s %4$s
        order by dist
        limit $3
      ) v$q$;

    if scope is not null then
      execute format(
        'select count(*) from (select from public.chunk_embeddings e'
        ' where e.model_id = $1 and e.workspace_id = any ($2) limit %s) x',
        exact_scan_limit + 1)
      into visible using mid, scope;
    end if;
    if visible is null or visible > exact_scan_limit then
      execute format(semantic_template, indexed_distance, row_joins, workspace_filter, row_filter)
        into sem_ids, sem_dists using query_embedding, mid, candidates, scope;
    end if;
    -- Few rows back means the index scan stopped early (hnsw.max_scan_tuples) before it
    -- reached enough of the caller's rows; or the caller has few: rank exactly.
    if cardinality(sem_ids) < candidates then
      execute format(semantic_template, exact_distance, row_joins, workspace_filter, row_filter)
        into sem_ids, sem_dists using query_embedding, mid, candidates, scope;
    end if;

    -- Passages still waiting for a vector of the model (queued for it) are matched by their
    -- static vector and ranked with the others by calibrated similarity: meaning search
    -- covers every passage from the start, and each one moves to its better vector when
    -- it has it.
    select * into static_model from public.embedding_models m where m.id = model.static_model_id;
    if static_embedding is not null and found then
      if model.similarity_relevant is not null and static_model.similarity_relevant is not null
      then
        model_zero := model.similarity_unrelated;
        model_unit := model.similarity_relevant - model.similarity_unrelated;
        static_zero := static_model.similarity_unrelated;
        static_unit := static_model.similarity_relevant - static_model.similarity_unrelated;
      end if;
      if extensions.vector_dims(static_embedding) <> static_model.dims then
        raise exception 'static_embedding has % dimensions; model % (%) has %',
          extensions.vector_dims(static_embedding), static_model.id, static_model.name,
          static_model.dims
          using errcode = '22023';
      end if;
      execute format(
        'select count(*) from (select from public.embedding_queue q'
        ' where q.model_id = $1 %s limit %s) x',
        case when scope is null then '' else ' and q.workspace_id = any ($2)' end,
        exact_scan_limit + 1)
      into backlog using mid, scope;
      indexed_distance := format(
        'e.embedding::extensions.%1$s(%2$s) operator(extensions.<=>) $1::extensions.%1$s(%2$s)',
        private.embedding_type(static_model.dims), static_model.dims);
      static_template := $q$
        select coalesce(array_agg(v.id order by v.dist, v.id), '{}'),
               coalesce(array_agg(v.dist order by v.dist, v.id), '{}')
        from (
          select e.chunk_id as id, %1$s as dist
          from public.chunk_embeddings e %2$s
          where e.model_id = $2 %3$s %4$s
            and exists (select from public.embedding_queue q
                        where q.chunk_id = e.chunk_id and q.model_id = $5)
          order by dist
          limit $3
        ) v$q$;
      -- A small backlog (the usual: one import's passages) is ranked exactly; a large one
      -- through the static model's index.
      if backlog > 0 then
        execute format(static_template,
                       case when backlog > exact_scan_limit then indexed_distance
                            else exact_distance end,
                       row_joins, workspace_filter, row_filter)
          into st_ids, st_dists using static_embedding, static_model.id, candidates, scope, mid;
      end if;
    end if;
  end if;

  if numnode(tsq) > 0 and full_text_weight > 0 and row_filter = ''
     and (select auth.uid()) is not null then
    -- A signed-in caller's matches come from private.keyword_matches, which can use the
    -- full-text index (20261202130100); scope is already narrowed to the
    -- caller's workspaces, and the function narrows it again itself.
    keyword_sql := 'select k.id, k.kscore, row_number() over (order by k.kscore desc, k.id)'
                   ' as rank from private.keyword_matches($1, $3, $10, $2) k';
  elsif numnode(tsq) > 0 and full_text_weight > 0 then
    keyword_sql := format($q$
      select k.id, k.kscore, row_number() over (order by k.kscore desc, k.id) as rank
      from (
        select c.id, %s(c.fts, $1) as kscore
        from public.chunks c %s
        where c.fts @@ $1 %s %s %s
        order by kscore desc, c.id
        limit $2
      ) k$q$,
      private.keyword_rank_function(tsq),
      -- The sources join only for a filter on them: it cost a lookup per match.
      case when (row_filter || alternative_filter) ~ '\ms\.'
           then 'join public.sources s on s.id = c.source_id' else '' end,
      case when scope is null then '' else ' and c.workspace_id = any ($3)' end,
      row_filter, alternative_filter);
  end if;

  return query execute format($q$
    with keyword as (%s),
    semantic as (
      -- One list: the model's matches and the static ones, by calibrated similarity. A
      -- passage is matched by one model (it is queued for the model or has its vector);
      -- should a vector land between the two reads, its better match wins. Other versions
      -- of messages leave the list here, not in the index scans, which then need no join.
      select b.id, b.dist, b.model_id,
             row_number() over (order by b.similarity desc, b.id) as rank
      from (
        select distinct on (u.id) u.id, u.dist, u.model_id, u.similarity
        from (
          select q.id, q.dist, $11::integer as model_id, (1 - q.dist - $15) / $16 as similarity
          from unnest($4::bigint[], $5::double precision[]) as q(id, dist)
          union all
          select t.id, t.dist, $12::integer, (1 - t.dist - $17) / $18
          from unnest($13::bigint[], $14::double precision[]) as t(id, dist)
        ) u
        where $10 or not exists (
          select from public.chunks c where c.id = u.id and c.metadata ? 'alternative_of')
        order by u.id, u.similarity desc, u.model_id
      ) b
    ),
    fused as (
      select coalesce(k.id, v.id) as id,
             coalesce($6 / ($8 + k.rank), 0.0) + coalesce($7 / ($8 + v.rank), 0.0) as score,
             k.rank as keyword_rank, k.kscore, v.rank as semantic_rank, v.dist, v.model_id
      from keyword k
      full outer join semantic v on v.id = k.id
      order by score desc, id
      limit $9
    )
    select c.id, c.source_id, c.workspace_id, s.title, s.platform, s.kind, s.url,
           c.role, c.author, c.created_at, c.message_index, c.chunk_index, c.content,
           -- Escaped first, so the snippet is safe HTML whose only tags are the <mark>s.
           ts_headline('english',
             replace(replace(replace(c.content, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'),
             $1,
             'StartSel=<mark>, StopSel=</mark>, MaxFragments=2, MinWords=10, MaxWords=30, FragmentDelimiter=" … "'),
           fu.score, fu.keyword_rank::integer, fu.kscore,
           fu.semantic_rank::integer, 1 - fu.dist, fu.model_id
    from fused fu
    join public.chunks c on c.id = fu.id
    join public.sources s on s.id = c.source_id
    order by fu.score desc, fu.id$q$, keyword_sql)
  using tsq, candidates, scope, sem_ids, sem_dists,
        full_text_weight, semantic_weight, rrf_k, match_count, alternatives,
        mid, static_model.id, st_ids, st_dists,
        model_zero, model_unit, static_zero, static_unit;
end
$$;

