/** What the Account settings check before they call the server. */

/** The web app's own rule for new passwords (the server's is looser: 6). */
export const MIN_PASSWORD = 8;

export function passwordProblem(password: string, repeat: string): string | null {
  if (password.length < MIN_PASSWORD) return `At least ${MIN_PASSWORD} characters.`;
  if (repeat !== password) return "The two passwords differ.";
  return null;
}

/** A file name for today's export: knitter-export-2026-12-01.zip. */
export function exportFileName(now: Date = new Date()): string {
  return `knitter-export-${now.toISOString().slice(0, 10)}.zip`;
}

export const GUEST_SIGN_OUT_WARNING =
  "You are a guest: once you sign out, nothing you imported can be reached again. " +
  "Create an account in Settings → Account to keep it. Sign out anyway?";
