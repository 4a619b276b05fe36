-- What an import job was given, known when it starts: each uploaded file's name and size in
-- bytes, or each link (size null). The history tells two conversations.json uploads apart
-- by them, and shows them while the job is still queued.
alter table public.import_jobs
  add column files jsonb not null default '[]';
