-- Personal access tokens: a user makes one for an agent (an MCP client) instead of handing
-- it their session. Only the SHA-256 of a token is stored; the plaintext is returned once,
-- by create_access_token, and never again.
--
-- Who may do what:
-- - anon: nothing (no table privilege, no function).
-- - authenticated: reads their own tokens' metadata (never token_hash) through
--   list_access_tokens or the table; creates tokens for themselves (not as guests) and
--   revokes their own through the RPCs below. No insert, update or delete on the table:
--   a revoked token cannot be revived and a token's scope or expiry cannot be widened.
-- - service_role (the API): resolve_access_token(token) → the owner, scope and state, for
--   requests that carry a token; it stamps last_used_at.
create table public.access_tokens (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  name text not null check (char_length(name) between 1 and 100),
  -- The first characters, to tell tokens apart in a list; not enough to guess the rest.
  token_prefix text not null check (char_length(token_prefix) = 12),
  token_hash bytea not null unique check (octet_length(token_hash) = 32),
  scope text not null check (scope in ('read', 'read-write')),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  revoked_at timestamptz,
  last_used_at timestamptz,
  check (expires_at > created_at)
);
create index access_tokens_user_id_idx on public.access_tokens (user_id);

alter table public.access_tokens enable row level security;

create policy "users see their own access tokens"
  on public.access_tokens for select to authenticated
  using (user_id = (select auth.uid()));

revoke all on table public.access_tokens from anon, authenticated;
grant select (id, user_id, name, token_prefix, scope, created_at, expires_at, revoked_at,
  last_used_at)
  on table public.access_tokens to authenticated;

create function public.create_access_token(
  name text,
  scope text default 'read',
  expires_in_days integer default 90
)
returns table (id uuid, token text, token_prefix text, expires_at timestamptz)
language plpgsql volatile security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  uid uuid := auth.uid();
  -- 244 random bits from two version-4 UUIDs (gen_random_uuid uses the strong source).
  secret text := 'knt_' || replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');
  made public.access_tokens;
begin
  if uid is null then
    raise exception 'sign in to create an access token' using errcode = '42501';
  end if;
  if coalesce((auth.jwt() ->> 'is_anonymous')::boolean, false) then
    raise exception 'guests cannot create access tokens' using errcode = '42501';
  end if;
  if create_access_token.scope is null
     or create_access_token.scope not in ('read', 'read-write') then
    raise exception 'scope must be read or read-write' using errcode = '22023';
  end if;
  if expires_in_days is null or expires_in_days not between 1 and 365 then
    raise exception 'expires_in_days must be 1 to 365' using errcode = '22023';
  end if;
  if coalesce(char_length(btrim(create_access_token.name)), 0) not between 1 and 100 then
    raise exception 'name must be 1 to 100 characters' using errcode = '22023';
  end if;
  if (select count(*) from public.access_tokens t
      where t.user_id = uid and t.revoked_at is null and t.expires_at > now()) >= 50 then
    raise exception 'at most 50 active access tokens; revoke one first' using errcode = '22023';
  end if;
  insert into public.access_tokens (user_id, name, token_prefix, token_hash, scope, expires_at)
  values (uid, btrim(create_access_token.name), left(secret, 12),
          sha256(convert_to(secret, 'UTF8')), create_access_token.scope,
          now() + make_interval(days => expires_in_days))
  returning * into made;
  return query select made.id, secret, made.token_prefix, made.expires_at;
end
$$;

comment on function public.create_access_token is
  'Creates a personal access token for the caller (scope read or read-write, 1-365 days);'
  ' the plaintext token is in this result only.';

create function public.list_access_tokens()
returns table (
  id uuid,
  name text,
  token_prefix text,
  scope text,
  created_at timestamptz,
  expires_at timestamptz,
  revoked_at timestamptz,
  last_used_at timestamptz
)
language sql stable
set search_path = ''
as $$
  select t.id, t.name, t.token_prefix, t.scope, t.created_at, t.expires_at, t.revoked_at,
         t.last_used_at
  from public.access_tokens t
  where t.user_id = (select auth.uid())
  order by t.created_at desc, t.id
$$;

comment on function public.list_access_tokens is
  'The caller''s access tokens, newest first, without their secrets.';

create function public.revoke_access_token(token_id uuid)
returns boolean
language sql volatile security definer
set search_path = ''
as $$
  with revoked as (
    update public.access_tokens t set revoked_at = now()
    where t.id = revoke_access_token.token_id
      and t.user_id = (select auth.uid())
      and t.revoked_at is null
    returning 1
  )
  select exists (select from revoked)
$$;

comment on function public.revoke_access_token is
  'Revokes one of the caller''s access tokens at once; false if it is not theirs or was'
  ' already revoked.';

create function public.resolve_access_token(token text)
returns table (
  id uuid,
  user_id uuid,
  email text,
  is_anonymous boolean,
  scope text,
  expires_at timestamptz,
  revoked_at timestamptz
)
language sql volatile security definer
set search_path = ''
as $$
  with found as (
    select t.id, t.user_id, t.scope, t.expires_at, t.revoked_at, t.last_used_at
    from public.access_tokens t
    where t.token_hash = sha256(convert_to(resolve_access_token.token, 'UTF8'))
  ),
  -- Last use to the minute: a busy agent does not rewrite the row on every request.
  touched as (
    update public.access_tokens t set last_used_at = now()
    from found f
    where t.id = f.id and (f.last_used_at is null or f.last_used_at < now() - interval '1 minute')
    returning t.id
  )
  select f.id, f.user_id, u.email::text, coalesce(u.is_anonymous, false), f.scope,
         f.expires_at, f.revoked_at
  from found f
  join auth.users u on u.id = f.user_id
$$;

comment on function public.resolve_access_token is
  'For the API (service role): the owner, scope and state of a presented token; stamps'
  ' its last use (to the minute).';

revoke all on function public.create_access_token(text, text, integer) from public, anon;
revoke all on function public.list_access_tokens() from public, anon;
revoke all on function public.revoke_access_token(uuid) from public, anon;
revoke all on function public.resolve_access_token(text) from public, anon, authenticated;
grant execute on function public.create_access_token(text, text, integer) to authenticated;
grant execute on function public.list_access_tokens() to authenticated;
grant execute on function public.revoke_access_token(uuid) to authenticated;
grant execute on function public.resolve_access_token(text) to service_role;
