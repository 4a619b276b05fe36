-- Summaries of conversations and topic threads: a few sentences and key topics, written by
-- the API (a chat model when a key is available, else extracted from the text) and kept
-- until someone asks for a fresh one. sources.summary and key_topics exist since the
-- sources migration; this adds who wrote them and when, and the same for threads.
set local lock_timeout = '5s';

alter table public.sources
  add column summary_model text check (char_length(summary_model) <= 200),
  add column summarized_at timestamptz;

alter table public.topic_threads
  add column summary text check (char_length(summary) <= 10000),
  add column key_topics text[] not null default '{}',
  add column summary_model text check (char_length(summary_model) <= 200),
  add column summarized_at timestamptz;
