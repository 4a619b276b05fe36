-- A thread's cohesion: the length of the plain mean of its conversations' unit centroids
-- (1 when they all point the same way). Cohesion times the cosine similarity to the
-- normalised centroid is a newcomer's average similarity to the thread's conversations,
-- which is what placing a new conversation compares with the threshold, as average-linkage
-- regrouping does; the centroid alone flattered spread-out threads, which then swallowed
-- neighbouring topics. Null (threads from before) means "use the centroid alone".
set local lock_timeout = '5s';

alter table public.topic_threads
  add column cohesion real check (cohesion between 0 and 1);

comment on column public.topic_threads.cohesion is
  'Length of the mean of the conversations'' unit centroids; null before it was computed.';
-- Written with the centroid, by whoever may write the centroid.
grant update (cohesion) on table public.topic_threads to authenticated;

-- Merge and split recompute a thread's centroid here: its cohesion too.
create or replace function private.refresh_thread_centroids(thread_ids uuid[])
returns void
language sql volatile
set search_path = ''
as $$
  update public.topic_threads t
  set centroid = m.centroid, cohesion = least(1, m.cohesion), model_id = m.model_id,
      updated_at = now()
  from (
    select s.thread_id, min(c.model_id) as model_id,
           extensions.l2_normalize(extensions.avg(c.centroid)) as centroid,
           extensions.vector_norm(extensions.avg(c.centroid)) as cohesion
    from public.sources s
    cross join lateral private.source_centroids(array[s.id]) c
    where s.thread_id = any (refresh_thread_centroids.thread_ids)
    group by s.thread_id
  ) m
  where t.id = m.thread_id
$$;
