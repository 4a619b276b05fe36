-- A running import job's heartbeat, refreshed by the API while the job works: a job whose
-- server died (kill -9, a crash, a redeploy) is told apart from one still at work by it.
alter table public.import_jobs add column heartbeat_at timestamptz;
