import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router-dom";
import { useSession } from "../auth";
import { useWorkspaces } from "../lib/queries";
import type { WorkspaceRow } from "../lib/rpc";
import {
  acceptInvitation,
  createWorkspace,
  declineInvitation,
  invitationLink,
  inviteToWorkspace,
  issueInvitationLink,
  leaveWorkspace,
  listMyInvitations,
  listWorkspaceInvitations,
  listWorkspaceMembers,
  removeWorkspaceMember,
  renameWorkspace,
  revokeInvitation,
  setMemberRole,
  type WorkspaceRole,
} from "../lib/workspaces";

const ROLES: WorkspaceRole[] = ["viewer", "editor", "owner"];

function Failure({ error }: { error: Error | null }) {
  return error ? (
    <p role="alert" className="error small">
      {error.message}
    </p>
  ) : null;
}

/** Everything that lists workspaces, members or invitations is refetched after a change. */
function useRefresh() {
  const queryClient = useQueryClient();
  return async () => {
    await queryClient.invalidateQueries({ queryKey: ["workspaces"] });
    await queryClient.invalidateQueries({ queryKey: ["workspace-members"] });
    await queryClient.invalidateQueries({ queryKey: ["invitations"] });
  };
}

function MyInvitations() {
  const userId = useSession().user.id;
  const refresh = useRefresh();
  const invitations = useQuery({ queryKey: ["invitations", "mine", userId], queryFn: listMyInvitations });
  const answer = useMutation({
    mutationFn: async ({ id, accept }: { id: string; accept: boolean }): Promise<void> => {
      await (accept ? acceptInvitation(id) : declineInvitation(id));
    },
    onSuccess: refresh,
  });
  if (!invitations.data?.length) return <Failure error={invitations.error} />;
  return (
    <section aria-labelledby="invitations-title">
      <h3 id="invitations-title">Invitations for you</h3>
      <ul className="plain" aria-label="Invitations for you">
        {invitations.data.map((inv) => (
          <li key={inv.id} className="invitation-row">
            <span>
              <strong>{inv.workspace_name}</strong> as {inv.role}
              {inv.invited_by_email ? `, from ${inv.invited_by_email}` : ""}
            </span>
            <button type="button" onClick={() => answer.mutate({ id: inv.id, accept: true })} disabled={answer.isPending}>
              Accept
            </button>
            <button type="button" onClick={() => answer.mutate({ id: inv.id, accept: false })} disabled={answer.isPending}>
              Decline
            </button>
          </li>
        ))}
      </ul>
      <Failure error={answer.error} />
    </section>
  );
}

/** Opened from an invite link (/settings?invitation=…&token=…): accept or decline it. */
function LinkedInvitation({ guest }: { guest: boolean }) {
  const [params, setParams] = useSearchParams();
  const refresh = useRefresh();
  const id = params.get("invitation");
  const token = params.get("token");
  const answer = useMutation({
    mutationFn: async (accept: boolean): Promise<void> => {
      if (!id || !token) return;
      await (accept ? acceptInvitation(id, token) : declineInvitation(id, token));
    },
    onSuccess: async () => {
      setParams({}, { replace: true });
      await refresh();
    },
  });
  if (!id || !token) return null;
  return (
    <section aria-labelledby="linked-invitation-title" className="invitation-row">
      <h3 id="linked-invitation-title">Invitation link</h3>
      {guest ? (
        <p className="muted">Create an account (keep this page open), then accept the invitation.</p>
      ) : (
        <>
          <span>You were sent a link to join a workspace.</span>
          <button type="button" onClick={() => answer.mutate(true)} disabled={answer.isPending}>
            Accept invitation
          </button>
          <button type="button" onClick={() => answer.mutate(false)} disabled={answer.isPending}>
            Decline
          </button>
        </>
      )}
      <Failure error={answer.error} />
    </section>
  );
}

function Members({ workspace }: { workspace: WorkspaceRow }) {
  const me = useSession().user.id;
  const refresh = useRefresh();
  const owner = workspace.role === "owner";
  const members = useQuery({
    queryKey: ["workspace-members", workspace.id],
    queryFn: () => listWorkspaceMembers(workspace.id),
  });
  const pending = useQuery({
    queryKey: ["invitations", "workspace", workspace.id],
    queryFn: () => listWorkspaceInvitations(workspace.id),
    enabled: owner,
  });
  const change = useMutation({
    mutationFn: ({ member, role }: { member: string; role: WorkspaceRole | null }) =>
      role ? setMemberRole(workspace.id, member, role) : removeWorkspaceMember(workspace.id, member),
    onSuccess: refresh,
  });
  const revoke = useMutation({ mutationFn: revokeInvitation, onSuccess: refresh });
  return (
    <>
      <ul className="plain" aria-label={`Members of ${workspace.name}`}>
        {members.data?.map((m) => (
          <li key={m.user_id} className="member-row">
            <span>{m.email}{m.user_id === me ? " (you)" : ""}</span>
            {owner ? (
              <select
                aria-label={`Role of ${m.email}`}
                value={m.role}
                disabled={change.isPending}
                onChange={(e) => change.mutate({ member: m.user_id, role: e.target.value as WorkspaceRole })}
              >
                {ROLES.map((r) => (
                  <option key={r} value={r}>{r}</option>
                ))}
              </select>
            ) : (
              <span className="muted">{m.role}</span>
            )}
            {owner && m.user_id !== me && (
              <button type="button" className="danger" onClick={() => change.mutate({ member: m.user_id, role: null })}>
                Remove
              </button>
            )}
          </li>
        ))}
        {pending.data?.map((inv) => (
          <li key={inv.id} className="member-row">
            <span>{inv.email ?? inv.user_id} <span className="muted">(invited as {inv.role})</span></span>
            <button type="button" onClick={() => revoke.mutate(inv.id)} disabled={revoke.isPending}>
              Revoke
            </button>
          </li>
        ))}
      </ul>
      <Failure error={members.error ?? change.error ?? revoke.error} />
    </>
  );
}

function InviteForm({ workspace }: { workspace: WorkspaceRow }) {
  const refresh = useRefresh();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<WorkspaceRole>("viewer");
  const [copied, setCopied] = useState(false);
  const invite = useMutation({
    // The link's secret comes back once: shown here to copy, never stored by us.
    mutationFn: async () => {
      const id = await inviteToWorkspace(workspace.id, email.trim(), role);
      return { email: email.trim(), link: invitationLink(id, await issueInvitationLink(id)) };
    },
    onSuccess: async () => {
      setEmail("");
      setCopied(false);
      await refresh();
    },
  });
  async function copy(link: string) {
    await navigator.clipboard.writeText(link);
    setCopied(true);
  }
  function submit(event: FormEvent) {
    event.preventDefault();
    if (email.trim()) invite.mutate();
  }
  return (
    <form className="invite-form" aria-label={`Invite to ${workspace.name}`} onSubmit={submit}>
      <label>
        Invite by email
        <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} placeholder="someone@example.com" />
      </label>
      <label>
        Role
        <select value={role} onChange={(e) => setRole(e.target.value as WorkspaceRole)}>
          {ROLES.map((r) => (
            <option key={r} value={r}>{r}</option>
          ))}
        </select>
      </label>
      <button type="submit" disabled={!email.trim() || invite.isPending}>
        Invite
      </button>
      {invite.data && (
        <div role="status" className="small">
          <label>
            Invite link for {invite.data.email} (shown once; valid 7 days)
            <input readOnly value={invite.data.link} onFocus={(e) => e.target.select()} />
          </label>
          <button type="button" onClick={() => void copy(invite.data.link)}>
            {copied ? "Copied" : "Copy link"}
          </button>
          <span className="muted"> Send it to them; they join when they open it and accept.</span>
        </div>
      )}
      <Failure error={invite.error} />
    </form>
  );
}

function TeamWorkspace({ workspace }: { workspace: WorkspaceRow }) {
  const refresh = useRefresh();
  const owner = workspace.role === "owner";
  const [name, setName] = useState(workspace.name);
  const rename = useMutation({ mutationFn: () => renameWorkspace(workspace.id, name.trim()), onSuccess: refresh });
  const leave = useMutation({ mutationFn: () => leaveWorkspace(workspace.id), onSuccess: refresh });
  function submit(event: FormEvent) {
    event.preventDefault();
    if (name.trim() && name.trim() !== workspace.name) rename.mutate();
  }
  return (
    <li className="card team-workspace" aria-label={workspace.name}>
      {owner ? (
        <form className="rename-form" onSubmit={submit}>
          <label>
            Name
            <input value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <button type="submit" disabled={rename.isPending || !name.trim() || name.trim() === workspace.name}>
            Rename
          </button>
        </form>
      ) : (
        <h3>{workspace.name}</h3>
      )}
      <p className="small muted">Your role: {workspace.role}</p>
      <Members workspace={workspace} />
      {owner && <InviteForm workspace={workspace} />}
      <button type="button" className="danger" onClick={() => leave.mutate()} disabled={leave.isPending}>
        Leave workspace
      </button>
      <Failure error={rename.error ?? leave.error} />
    </li>
  );
}

/** Settings → Workspaces: create and rename team workspaces, invite, answer invitations,
 * manage members, leave. Nobody joins without accepting. */
export function WorkspacesSection() {
  const session = useSession();
  const guest = session.user.is_anonymous === true;
  const workspaces = useWorkspaces();
  const refresh = useRefresh();
  const [name, setName] = useState("");
  const create = useMutation({
    mutationFn: () => createWorkspace(name.trim()),
    onSuccess: async () => {
      setName("");
      await refresh();
    },
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    if (name.trim()) create.mutate();
  }
  const teams = workspaces.data?.filter((w) => !w.is_personal) ?? [];
  return (
    <section className="card" aria-labelledby="workspaces-title">
      <h2 id="workspaces-title">Workspaces</h2>
      <LinkedInvitation guest={guest} />
      {guest ? (
        <p className="muted">Guests have a personal workspace only; create an account to share one.</p>
      ) : (
        <>
          <MyInvitations />
          <form className="create-workspace" aria-label="New workspace" onSubmit={submit}>
            <label>
              New workspace
              <input value={name} onChange={(e) => setName(e.target.value)} placeholder="Team name" />
            </label>
            <button type="submit" disabled={!name.trim() || create.isPending}>
              Create
            </button>
            <Failure error={create.error} />
          </form>
          <ul className="plain" aria-label="Team workspaces">
            {teams.map((w) => (
              <TeamWorkspace key={`${w.id}:${w.name}`} workspace={w} />
            ))}
          </ul>
          <Failure error={workspaces.error} />
        </>
      )}
    </section>
  );
}
