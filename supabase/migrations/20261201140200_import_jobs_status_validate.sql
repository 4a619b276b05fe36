-- Validates the widened status check of the previous migration apart from adding it, so
-- the scan takes no lock that blocks writes to import_jobs.
alter table public.import_jobs validate constraint import_jobs_status_check;
