-- Invitations to a workspace. Nobody becomes a member without accepting one, so nothing of
-- a workspace reaches a person's search, answers, threads or suggestions before they say
-- yes. Written only through the invitation RPCs (security definer, with their own checks);
-- the invitee and the workspace's owners read them.
create table public.workspace_invitations (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  -- The invitee: a user id, or an email (lower case) to be matched when they sign in.
  user_id uuid references auth.users (id) on delete cascade,
  email text check (email = lower(email) and char_length(email) between 3 and 320),
  role public.workspace_role not null default 'viewer',
  invited_by uuid default auth.uid() references auth.users (id) on delete set null,
  status text not null default 'pending'
    check (status in ('pending', 'accepted', 'declined', 'revoked')),
  created_at timestamptz not null default now(),
  responded_at timestamptz,
  constraint workspace_invitations_invitee check (user_id is not null or email is not null)
);
create index workspace_invitations_workspace_id_idx on public.workspace_invitations (workspace_id);
create index workspace_invitations_user_id_idx on public.workspace_invitations (user_id);
create index workspace_invitations_email_idx on public.workspace_invitations (email);
create index workspace_invitations_invited_by_idx on public.workspace_invitations (invited_by);
-- One open invitation per invitee and workspace.
create unique index workspace_invitations_one_pending_user
  on public.workspace_invitations (workspace_id, user_id) where status = 'pending';
create unique index workspace_invitations_one_pending_email
  on public.workspace_invitations (workspace_id, email) where status = 'pending';

alter table public.workspace_invitations enable row level security;

-- The caller's own email, as Supabase Auth stored it (not as a client claims it), once
-- confirmed: an invitation by email is for whoever proved they receive that mail.
create function private.my_email()
returns text
language sql stable security definer
set search_path = ''
as $$
  select lower(u.email) from auth.users u
  where u.id = (select auth.uid()) and u.email_confirmed_at is not null
$$;
revoke all on function private.my_email() from public;
grant execute on function private.my_email() to authenticated, service_role;

create policy "invitees and owners read invitations"
  on public.workspace_invitations for select to authenticated
  using (
    user_id = (select auth.uid())
    or email = (select private.my_email())
    or workspace_id in (select private.workspace_ids_for('owner'))
  );

revoke all on table public.workspace_invitations from anon, authenticated;
grant select on table public.workspace_invitations to authenticated;
