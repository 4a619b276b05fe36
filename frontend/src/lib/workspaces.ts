/** Workspaces, invitations and members: the RPCs of docs/ACCESS.md, through supabase.rpc. */
import { supabase } from "./supabase";

export type WorkspaceRole = "owner" | "editor" | "viewer";

export interface InvitationRow {
  id: string;
  workspace_id: string;
  workspace_name: string;
  role: WorkspaceRole;
  invited_by_email: string | null;
  created_at: string;
}

export interface MemberRow {
  user_id: string;
  email: string;
  role: WorkspaceRole;
  joined_at: string;
}

export interface PendingInvitationRow {
  id: string;
  user_id: string | null;
  email: string | null;
  role: WorkspaceRole;
  created_at: string;
}

async function call<T>(fn: string, args?: Record<string, unknown>): Promise<T> {
  const { data, error } = await supabase().rpc(fn, args);
  if (error) throw new Error(error.message || `${fn} failed`);
  return data as T;
}

export const createWorkspace = (name: string) => call<string>("create_workspace", { name });

export const renameWorkspace = (workspaceId: string, name: string) =>
  call<boolean>("rename_workspace", { workspace_id: workspaceId, name });

export const inviteToWorkspace = (workspaceId: string, email: string, role: WorkspaceRole) =>
  call<string>("invite_to_workspace", { workspace_id: workspaceId, email, role });

export const listMyInvitations = () => call<InvitationRow[]>("list_my_invitations");

export const acceptInvitation = (invitationId: string) =>
  call<string>("accept_invitation", { invitation_id: invitationId });

export const declineInvitation = (invitationId: string) =>
  call<boolean>("decline_invitation", { invitation_id: invitationId });

export const revokeInvitation = (invitationId: string) =>
  call<boolean>("revoke_invitation", { invitation_id: invitationId });

export const listWorkspaceInvitations = (workspaceId: string) =>
  call<PendingInvitationRow[]>("list_workspace_invitations", { workspace_id: workspaceId });

export const listWorkspaceMembers = (workspaceId: string) =>
  call<MemberRow[]>("list_workspace_members", { workspace_id: workspaceId });

export const setMemberRole = (workspaceId: string, memberId: string, role: WorkspaceRole) =>
  call<boolean>("set_member_role", { workspace_id: workspaceId, member_id: memberId, role });

export const removeWorkspaceMember = (workspaceId: string, memberId: string) =>
  call<boolean>("remove_workspace_member", { workspace_id: workspaceId, member_id: memberId });

export const leaveWorkspace = (workspaceId: string) =>
  call<boolean>("leave_workspace", { workspace_id: workspaceId });
