-- An invitation by email is claimed with a link, not by holding the address: Supabase Auth
-- lets a user (a guest too) set any unregistered address on themselves, confirmed at once
-- when "Confirm email" is off, so an address proves nothing. The owner issues a secret
-- token (shown once, to copy into the link); only its sha256 is kept, for a limited time.
-- Looked up by invitation id (the link carries both), so the hash needs no index.
set local lock_timeout = '5s';
alter table public.workspace_invitations
  add column token_hash text check (token_hash ~ '^[0-9a-f]{64}$'),
  add column token_expires_at timestamptz;

create function private.invitation_token_hash(token text)
returns text
language sql immutable
set search_path = ''
as $$
  select encode(pg_catalog.sha256(pg_catalog.convert_to(invitation_token_hash.token, 'UTF8')), 'hex')
$$;
revoke all on function private.invitation_token_hash(text) from public;

create function public.issue_invitation_link(invitation_id uuid)
returns text
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  inv public.workspace_invitations;
  -- Two v4 uuids from the server's strong random source: 244 random bits, 64 hex digits
  -- (pgcrypto is not everywhere; gen_random_uuid is core).
  token text := replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', '');
begin
  select * into inv from public.workspace_invitations i
  where i.id = issue_invitation_link.invitation_id and i.status = 'pending';
  if not found then
    raise exception 'no such invitation' using errcode = 'PT404';
  end if;
  perform private.require_owner(inv.workspace_id);
  if inv.email is null then
    raise exception 'an invitation by user id is accepted by that user; links are for email invitations'
      using errcode = '22023';
  end if;
  -- A new link replaces the previous one, which stops working.
  update public.workspace_invitations i
  set token_hash = private.invitation_token_hash(token),
      token_expires_at = now() + interval '7 days'
  where i.id = inv.id;
  return token;
end
$$;

comment on function public.issue_invitation_link is
  'Issues the secret token of an email invitation''s link (valid 7 days; replaces any earlier '
  'one) and returns it once; owners only. Only its hash is stored.';

revoke all on function public.issue_invitation_link(uuid) from public, anon;
grant execute on function public.issue_invitation_link(uuid) to authenticated, service_role;
