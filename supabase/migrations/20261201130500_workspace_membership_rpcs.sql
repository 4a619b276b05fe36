-- Workspaces, invitations and members through RPC. Security definer: the tables take no
-- direct writes from the API roles (see docs/ACCESS.md), so each function checks who is
-- calling: owners create, rename, invite, change roles and remove members; an invitee
-- accepts or declines; any member leaves, except the last owner, who hands over first.

-- The signed-in caller, or an error.
create function private.require_user()
returns uuid
language plpgsql stable
set search_path = ''
as $$
declare
  uid uuid := (select auth.uid());
begin
  if uid is null then
    raise exception 'sign in first' using errcode = '42501';
  end if;
  return uid;
end
$$;

create function private.is_guest()
returns boolean
language sql stable
set search_path = ''
as $$
  select coalesce(((select auth.jwt()) ->> 'is_anonymous')::boolean, false)
$$;

-- The caller's role in the workspace (null if not a member).
create function private.my_role(workspace_id uuid)
returns public.workspace_role
language sql stable security definer
set search_path = ''
as $$
  select m.role from public.workspace_members m
  where m.workspace_id = my_role.workspace_id and m.user_id = (select auth.uid())
$$;

create function private.require_owner(workspace_id uuid)
returns void
language plpgsql stable security definer
set search_path = ''
as $$
begin
  perform private.require_user();
  if private.my_role(require_owner.workspace_id) is distinct from 'owner' then
    raise exception 'only owners of the workspace can do that' using errcode = '42501';
  end if;
end
$$;

-- A member stops being an owner (leaves, is removed or demoted): refused if they are the
-- last one; if they were workspaces.owner_id, another owner takes that place.
create function private.release_ownership(workspace_id uuid, member_id uuid)
returns void
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  successor uuid;
begin
  if not exists (
    select from public.workspace_members m
    where m.workspace_id = release_ownership.workspace_id
      and m.user_id = release_ownership.member_id and m.role = 'owner'
  ) then
    return;
  end if;
  select m.user_id into successor from public.workspace_members m
  where m.workspace_id = release_ownership.workspace_id and m.role = 'owner'
    and m.user_id <> release_ownership.member_id
  order by m.created_at, m.user_id
  limit 1
  for update;
  if successor is null then
    raise exception 'the last owner cannot leave; make another member an owner first'
      using errcode = '42501';
  end if;
  update public.workspaces w set owner_id = successor
  where w.id = release_ownership.workspace_id and w.owner_id = release_ownership.member_id;
end
$$;

revoke all on function private.require_user() from public;
revoke all on function private.is_guest() from public;
revoke all on function private.my_role(uuid) from public;
revoke all on function private.require_owner(uuid) from public;
revoke all on function private.release_ownership(uuid, uuid) from public;

create function public.create_workspace(name text)
returns uuid
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid uuid := private.require_user();
  clean text := btrim(coalesce(create_workspace.name, ''));
  new_id uuid;
begin
  if private.is_guest() then
    raise exception 'guests cannot create workspaces; sign up first' using errcode = '42501';
  end if;
  if char_length(clean) not between 1 and 200 then
    raise exception 'a workspace name has 1 to 200 characters' using errcode = '22023';
  end if;
  insert into public.workspaces (name, owner_id) values (clean, uid) returning id into new_id;
  return new_id;
end
$$;

comment on function public.create_workspace is
  'Creates a team workspace owned by the caller; returns its id. Not for guests.';

create function public.rename_workspace(workspace_id uuid, name text)
returns boolean
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  clean text := btrim(coalesce(rename_workspace.name, ''));
begin
  perform private.require_owner(rename_workspace.workspace_id);
  if char_length(clean) not between 1 and 200 then
    raise exception 'a workspace name has 1 to 200 characters' using errcode = '22023';
  end if;
  update public.workspaces w set name = clean where w.id = rename_workspace.workspace_id;
  return true;
end
$$;

comment on function public.rename_workspace is 'Renames a workspace; owners only.';

create function public.invite_to_workspace(
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
    select u.id into target from auth.users u
    where lower(u.email) = address and not coalesce(u.is_anonymous, false)
    order by u.created_at limit 1;
  elsif not exists (select from auth.users u where u.id = target) then
    raise exception 'no such user' using errcode = 'PT404';
  end if;
  if target is not null and exists (
    select from public.workspace_members m
    where m.workspace_id = ws.id and m.user_id = target
  ) then
    raise exception 'already a member of the workspace' using errcode = '23505';
  end if;
  -- Inviting again while an invitation is open updates its role.
  select i.id into existing from public.workspace_invitations i
  where i.workspace_id = ws.id and i.status = 'pending'
    and ((target is not null and i.user_id = target) or (address is not null and i.email = address))
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
  'editor, owner); owners only. They become a member only when they accept. Returns the '
  'invitation id.';

-- An open invitation addressed to the caller, or an error.
create function private.my_invitation(invitation_id uuid)
returns public.workspace_invitations
language plpgsql stable security definer
set search_path = ''
as $$
declare
  found_invitation public.workspace_invitations;
begin
  perform private.require_user();
  select * into found_invitation from public.workspace_invitations i
  where i.id = my_invitation.invitation_id and i.status = 'pending'
    and (i.user_id = (select auth.uid()) or i.email = (select private.my_email()));
  if not found then
    raise exception 'no such invitation' using errcode = 'PT404';
  end if;
  return found_invitation;
end
$$;
revoke all on function private.my_invitation(uuid) from public;

create function public.list_my_invitations()
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
  where i.status = 'pending'
    and (i.user_id = (select auth.uid()) or i.email = (select private.my_email()))
  order by i.created_at desc, i.id
$$;

comment on function public.list_my_invitations is
  'The caller''s open invitations, newest first.';

create function public.accept_invitation(invitation_id uuid)
returns uuid
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  inv public.workspace_invitations := private.my_invitation(accept_invitation.invitation_id);
begin
  insert into public.workspace_members (workspace_id, user_id, role)
  values (inv.workspace_id, (select auth.uid()), inv.role)
  on conflict do nothing;
  update public.workspace_invitations i
  set status = 'accepted', responded_at = now(), user_id = (select auth.uid())
  where i.id = inv.id;
  return inv.workspace_id;
end
$$;

comment on function public.accept_invitation is
  'Joins the workspace of an invitation addressed to the caller; returns the workspace id.';

create function public.decline_invitation(invitation_id uuid)
returns boolean
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  inv public.workspace_invitations := private.my_invitation(decline_invitation.invitation_id);
begin
  update public.workspace_invitations i
  set status = 'declined', responded_at = now()
  where i.id = inv.id;
  return true;
end
$$;

comment on function public.decline_invitation is 'Declines an invitation addressed to the caller.';

create function public.revoke_invitation(invitation_id uuid)
returns boolean
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  ws uuid;
begin
  select i.workspace_id into ws from public.workspace_invitations i
  where i.id = revoke_invitation.invitation_id and i.status = 'pending';
  if ws is null then
    raise exception 'no such invitation' using errcode = 'PT404';
  end if;
  perform private.require_owner(ws);
  update public.workspace_invitations i set status = 'revoked', responded_at = now()
  where i.id = revoke_invitation.invitation_id;
  return true;
end
$$;

comment on function public.revoke_invitation is 'Withdraws an open invitation; owners only.';

create function public.list_workspace_invitations(workspace_id uuid)
returns table (
  id uuid,
  user_id uuid,
  email text,
  role public.workspace_role,
  created_at timestamptz
)
language plpgsql stable security definer
set search_path = ''
as $$
begin
  perform private.require_owner(list_workspace_invitations.workspace_id);
  return query
    select i.id, i.user_id, coalesce(i.email, lower(u.email)), i.role, i.created_at
    from public.workspace_invitations i
    left join auth.users u on u.id = i.user_id
    where i.workspace_id = list_workspace_invitations.workspace_id and i.status = 'pending'
    order by i.created_at, i.id;
end
$$;

comment on function public.list_workspace_invitations is
  'A workspace''s open invitations; owners only.';

create function public.list_workspace_members(workspace_id uuid)
returns table (user_id uuid, email text, role public.workspace_role, joined_at timestamptz)
language plpgsql stable security definer
set search_path = ''
as $$
begin
  perform private.require_user();
  if private.my_role(list_workspace_members.workspace_id) is null then
    raise exception 'no such workspace' using errcode = 'PT404';
  end if;
  return query
    select m.user_id, u.email::text, m.role, m.created_at
    from public.workspace_members m
    join auth.users u on u.id = m.user_id
    where m.workspace_id = list_workspace_members.workspace_id
    order by m.role desc, m.created_at, m.user_id;
end
$$;

comment on function public.list_workspace_members is
  'The members of a workspace the caller belongs to, owners first.';

create function public.set_member_role(
  workspace_id uuid, member_id uuid, role public.workspace_role
)
returns boolean
language plpgsql volatile security definer
set search_path = ''
as $$
begin
  perform private.require_owner(set_member_role.workspace_id);
  if set_member_role.role is null then
    raise exception 'role must be viewer, editor or owner' using errcode = '22023';
  end if;
  if not exists (
    select from public.workspace_members m
    where m.workspace_id = set_member_role.workspace_id and m.user_id = set_member_role.member_id
  ) then
    raise exception 'no such member' using errcode = 'PT404';
  end if;
  if set_member_role.role <> 'owner' then
    perform private.release_ownership(set_member_role.workspace_id, set_member_role.member_id);
  end if;
  update public.workspace_members m set role = set_member_role.role
  where m.workspace_id = set_member_role.workspace_id and m.user_id = set_member_role.member_id;
  return true;
end
$$;

comment on function public.set_member_role is
  'Changes a member''s role; owners only. The last owner cannot be demoted.';

create function public.remove_workspace_member(workspace_id uuid, member_id uuid)
returns boolean
language plpgsql volatile security definer
set search_path = ''
as $$
begin
  perform private.require_owner(remove_workspace_member.workspace_id);
  perform private.release_ownership(
    remove_workspace_member.workspace_id, remove_workspace_member.member_id);
  delete from public.workspace_members m
  where m.workspace_id = remove_workspace_member.workspace_id
    and m.user_id = remove_workspace_member.member_id;
  if not found then
    raise exception 'no such member' using errcode = 'PT404';
  end if;
  return true;
end
$$;

comment on function public.remove_workspace_member is
  'Removes a member; owners only. The last owner cannot be removed.';

create function public.leave_workspace(workspace_id uuid)
returns boolean
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid uuid := private.require_user();
begin
  if private.my_role(leave_workspace.workspace_id) is null then
    raise exception 'no such workspace' using errcode = 'PT404';
  end if;
  perform private.release_ownership(leave_workspace.workspace_id, uid);
  delete from public.workspace_members m
  where m.workspace_id = leave_workspace.workspace_id and m.user_id = uid;
  return true;
end
$$;

comment on function public.leave_workspace is
  'Leaves a workspace; the last owner must make another member an owner first.';

do $$
declare
  fn text;
begin
  foreach fn in array array[
    'public.create_workspace(text)',
    'public.rename_workspace(uuid, text)',
    'public.invite_to_workspace(uuid, text, uuid, public.workspace_role)',
    'public.list_my_invitations()',
    'public.accept_invitation(uuid)',
    'public.decline_invitation(uuid)',
    'public.revoke_invitation(uuid)',
    'public.list_workspace_invitations(uuid)',
    'public.list_workspace_members(uuid)',
    'public.set_member_role(uuid, uuid, public.workspace_role)',
    'public.remove_workspace_member(uuid, uuid)',
    'public.leave_workspace(uuid)'
  ] loop
    execute format('revoke all on function %s from public, anon', fn);
    execute format('grant execute on function %s to authenticated, service_role', fn);
  end loop;
end
$$;
