/** Workspaces, invitations and members: the RPCs of docs/ACCESS.md, through supabase.rpc. */
import { call, type Present, type RpcRow } from "./rpc";

export type WorkspaceRole = "owner" | "editor" | "viewer";

type WithRole<Row> = Omit<Row, "role"> & { role: WorkspaceRole };

export type InvitationRow = WithRole<
  Present<RpcRow<"list_my_invitations">, "id" | "workspace_id" | "workspace_name" | "created_at">
>;
export type MemberRow = WithRole<
  Present<RpcRow<"list_workspace_members">, "user_id" | "email" | "joined_at">
>;
export type PendingInvitationRow = WithRole<
  Present<RpcRow<"list_workspace_invitations">, "id" | "created_at">
>;

export const createWorkspace = (name: string) => call<"create_workspace", string>("create_workspace", { name });

export const renameWorkspace = (workspaceId: string, name: string) =>
  call<"rename_workspace", boolean>("rename_workspace", { workspace_id: workspaceId, name });

export const inviteToWorkspace = (workspaceId: string, email: string, role: WorkspaceRole) =>
  call<"invite_to_workspace", string>("invite_to_workspace", { workspace_id: workspaceId, email, role });

export const listMyInvitations = () => call<"list_my_invitations", InvitationRow[]>("list_my_invitations");

/** An email invitation's secret, returned once (the database keeps only its hash); a new
 * one replaces the old link. */
export const issueInvitationLink = (invitationId: string) =>
  call<"issue_invitation_link", string>("issue_invitation_link", { invitation_id: invitationId });

/** The link the inviter passes on: whoever opens it signed in (not as a guest) may accept. */
export const invitationLink = (invitationId: string, token: string) => {
  const url = new URL("/settings", window.location.origin);
  url.searchParams.set("invitation", invitationId);
  url.searchParams.set("token", token);
  return url.href;
};

/** An invitation by user id needs no token; one by email needs its link's. */
export const acceptInvitation = (invitationId: string, token?: string) =>
  call<"accept_invitation", string>("accept_invitation", { invitation_id: invitationId, ...(token ? { token } : {}) });

export const declineInvitation = (invitationId: string, token?: string) =>
  call<"decline_invitation", boolean>("decline_invitation", { invitation_id: invitationId, ...(token ? { token } : {}) });

export const revokeInvitation = (invitationId: string) =>
  call<"revoke_invitation", boolean>("revoke_invitation", { invitation_id: invitationId });

export const listWorkspaceInvitations = (workspaceId: string) =>
  call<"list_workspace_invitations", PendingInvitationRow[]>("list_workspace_invitations", { workspace_id: workspaceId });

export const listWorkspaceMembers = (workspaceId: string) =>
  call<"list_workspace_members", MemberRow[]>("list_workspace_members", { workspace_id: workspaceId });

export const setMemberRole = (workspaceId: string, memberId: string, role: WorkspaceRole) =>
  call<"set_member_role", boolean>("set_member_role", { workspace_id: workspaceId, member_id: memberId, role });

export const removeWorkspaceMember = (workspaceId: string, memberId: string) =>
  call<"remove_workspace_member", boolean>("remove_workspace_member", { workspace_id: workspaceId, member_id: memberId });

export const leaveWorkspace = (workspaceId: string) =>
  call<"leave_workspace", boolean>("leave_workspace", { workspace_id: workspaceId });
