-- A job whose server stopped mid-way becomes 'interrupted' (with what is missing in its
-- errors) instead of staying 'running' forever. The old check is replaced by a wider one:
-- every status it allowed is still allowed, so no client loses a guarantee;
-- it is validated by the next migration, in its own transaction.
-- squawk-ignore ban-drop-constraint
alter table public.import_jobs drop constraint import_jobs_status_check;

alter table public.import_jobs add constraint import_jobs_status_check
  check (status in ('queued', 'running', 'succeeded', 'failed', 'interrupted')) not valid;
