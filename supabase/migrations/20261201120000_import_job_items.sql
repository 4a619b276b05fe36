-- An import job's report per item the user named (a file, zip, folder or link): the format
-- recognised, conversations added, updated, skipped and failed, messages kept, what was left
-- out by kind and the export's side files. The same report `knitter import` prints; the API
-- writes it as a JSON array.
alter table public.import_jobs
  add column items jsonb not null default '[]';
