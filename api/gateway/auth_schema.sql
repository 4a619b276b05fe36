-- Local-only GoTrue state the gateway needs beside the shim's auth.users: sessions and
-- their rotating refresh tokens, shaped like Supabase's own tables (a subset of columns).
-- Applied by the local gateway at startup; idempotent. Never part of supabase/migrations.

create table if not exists auth.sessions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index if not exists sessions_user_id_idx on auth.sessions (user_id);

create table if not exists auth.refresh_tokens (
  id bigserial primary key,
  -- SHA-256 of the token (hex): a leaked table does not hand out sessions.
  token varchar(255) not null unique,
  user_id uuid not null references auth.users (id) on delete cascade,
  session_id uuid not null references auth.sessions (id) on delete cascade,
  parent varchar(255),
  revoked boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index if not exists refresh_tokens_session_id_idx on auth.refresh_tokens (session_id);

-- Only the gateway (the connecting owner) reads these; the API roles never do.
revoke all on auth.sessions, auth.refresh_tokens from public, anon, authenticated, service_role;

-- One-time tokens (password recovery), as Supabase's auth.one_time_tokens: only a hash is
-- kept, one live token per user and type, spent on first use.
create table if not exists auth.one_time_tokens (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  token_type text not null check (token_type in ('recovery_token')),
  token_hash text not null unique,
  relates_to text not null,
  created_at timestamptz not null default now(),
  unique (user_id, token_type)
);

revoke all on auth.one_time_tokens from public, anon, authenticated, service_role;
