-- Who may answer an invitation: one by user id, that user; one by email, whoever holds its
-- current link (see 20261202090000) and is not a guest. The address itself grants nothing,
-- and is not matched against the accepter either: the link goes to the person the owner
-- meant, who may sign in with another address (work or personal), and a claimed address
-- proves nothing on Supabase without email confirmation.

drop policy "invitees and owners read invitations" on public.workspace_invitations;
create policy "invitees and owners read invitations"
  on public.workspace_invitations for select to authenticated
  using (
    (user_id = (select auth.uid()) and email is null)
    or workspace_id in (select private.workspace_ids_for('owner'))
  );

-- By email: the address is kept to show the owner whom the link was for; no account is
-- looked up by it (that account could be anyone who typed the address in).
create or replace function public.invite_to_workspace(
  workspace_id uuid,
  email text default null,
  invitee_id uuid default null,
  role public.workspace_role default 'viewer'
)
returns uuid
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  ws public.workspaces;
  address text := nullif(lower(btrim(coalesce(invite_to_workspace.email, ''))), '');
  target uuid := invite_to_workspace.invitee_id;
  existing uuid;
begin
  perform private.require_owner(invite_to_workspace.workspace_id);
  if private.is_guest() then
    raise exception 'guests cannot invite; sign up first' using errcode = '42501';
  end if;
  select * into ws from public.workspaces w where w.id = invite_to_workspace.workspace_id;
  if ws.is_personal then
    raise exception 'a personal workspace has no other members; invite to a team workspace'
      using errcode = '22023';
  end if;
  if (address is null) = (target is null) then
    raise exception 'invite either by email or by user id' using errcode = '22023';
  end if;
  if address is not null then
    if address !~ '^[^@\s]+@[^@\s]+$' or char_length(address) > 320 then
      raise exception 'that is not an email address' using errcode = '22023';
    end if;
  elsif not exists (select from auth.users u where u.id = target) then
    raise exception 'no such user' using errcode = 'PT404';
  end if;
  if exists (
    select from public.workspace_members m
    join auth.users u on u.id = m.user_id
    where m.workspace_id = ws.id
      and (m.user_id = target or (address is not null and lower(u.email) = address))
  ) then
    raise exception 'already a member of the workspace' using errcode = '23505';
  end if;
  -- Inviting again while an invitation is open updates its role (an issued link stays).
  select i.id into existing from public.workspace_invitations i
  where i.workspace_id = ws.id and i.status = 'pending'
    and ((target is not null and i.user_id = target and i.email is null)
      or (address is not null and i.email = address))
  limit 1;
  if existing is not null then
    update public.workspace_invitations i set role = invite_to_workspace.role
    where i.id = existing;
    return existing;
  end if;
  insert into public.workspace_invitations (workspace_id, user_id, email, role, invited_by)
  values (ws.id, target, address, invite_to_workspace.role, (select auth.uid()))
  returning id into existing;
  return existing;
end
$$;

comment on function public.invite_to_workspace is
  'Invites a person (by email, or by user id) to a team workspace with a role (viewer, '
  'editor, owner); owners only. They become a member only when they accept: by user id, '
  'that user; by email, whoever opens the link of issue_invitation_link(). Returns the '
  'invitation id.';

-- The answers take the link's token now (optional: null for invitations by user id), so
-- callers passing only invitation_id keep working.
-- squawk-ignore ban-drop-function
drop function public.accept_invitation(uuid);
-- squawk-ignore ban-drop-function
drop function public.decline_invitation(uuid);
-- squawk-ignore ban-drop-function
drop function private.my_invitation(uuid);

-- An open invitation the caller may answer, or an error. Guests never: they sign up first.
create function private.my_invitation(invitation_id uuid, token text)
returns public.workspace_invitations
language plpgsql stable security definer
set search_path = ''
as $$
declare
  found_invitation public.workspace_invitations;
begin
  perform private.require_user();
  if private.is_guest() then
    raise exception 'guests cannot join workspaces; sign up first' using errcode = '42501';
  end if;
  select * into found_invitation from public.workspace_invitations i
  where i.id = my_invitation.invitation_id and i.status = 'pending'
    and case
      when i.email is null then i.user_id = (select auth.uid())
      else my_invitation.token is not null
        and i.token_hash = private.invitation_token_hash(my_invitation.token)
        and i.token_expires_at > now()
    end;
  if not found then
    raise exception 'no such invitation' using errcode = 'PT404';
  end if;
  return found_invitation;
end
$$;
revoke all on function private.my_invitation(uuid, text) from public;

create function public.accept_invitation(invitation_id uuid, token text default null)
returns uuid
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  inv public.workspace_invitations :=
    private.my_invitation(accept_invitation.invitation_id, accept_invitation.token);
begin
  insert into public.workspace_members (workspace_id, user_id, role)
  values (inv.workspace_id, (select auth.uid()), inv.role)
  on conflict do nothing;
  update public.workspace_invitations i
  set status = 'accepted', responded_at = now(), user_id = (select auth.uid()),
      token_hash = null, token_expires_at = null
  where i.id = inv.id;
  return inv.workspace_id;
end
$$;

comment on function public.accept_invitation is
  'Joins the workspace of an invitation: one by user id for that user, one by email with '
  'the token of its link; not for guests. Returns the workspace id.';

create function public.decline_invitation(invitation_id uuid, token text default null)
returns boolean
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  inv public.workspace_invitations :=
    private.my_invitation(decline_invitation.invitation_id, decline_invitation.token);
begin
  update public.workspace_invitations i
  set status = 'declined', responded_at = now(), token_hash = null, token_expires_at = null
  where i.id = inv.id;
  return true;
end
$$;

comment on function public.decline_invitation is
  'Declines an invitation the caller may accept (the same checks as accept_invitation).';

-- Listed for the invitee: invitations by user id only (an email one is opened by its link).
create or replace function public.list_my_invitations()
returns table (
  id uuid,
  workspace_id uuid,
  workspace_name text,
  role public.workspace_role,
  invited_by_email text,
  created_at timestamptz
)
language sql stable security definer
set search_path = ''
as $$
  select i.id, i.workspace_id, w.name, i.role, u.email, i.created_at
  from public.workspace_invitations i
  join public.workspaces w on w.id = i.workspace_id
  left join auth.users u on u.id = i.invited_by
  where i.status = 'pending' and i.email is null and i.user_id = (select auth.uid())
  order by i.created_at desc, i.id
$$;

comment on function public.list_my_invitations is
  'The caller''s open invitations by user id, newest first.';

revoke all on function public.accept_invitation(uuid, text) from public, anon;
grant execute on function public.accept_invitation(uuid, text) to authenticated, service_role;
revoke all on function public.decline_invitation(uuid, text) from public, anon;
grant execute on function public.decline_invitation(uuid, text) to authenticated, service_role;
