/** What the Account settings check before they call the server. */

/** The web app's own rule for new passwords (the server's is looser: 6). */
export const MIN_PASSWORD = 8;

export function passwordProblem(password: string, repeat: string): string | null {
  if ([...password].length < MIN_PASSWORD) return `At least ${MIN_PASSWORD} characters.`;
  if (repeat !== password) return "The two passwords differ.";
  return null;
}

/** The length rule as the person types, so it shows before they submit. */
export function passwordRule(password: string): { met: boolean; text: string } {
  const missing = MIN_PASSWORD - [...password].length;
  if (missing <= 0) return { met: true, text: `At least ${MIN_PASSWORD} characters: done.` };
  return {
    met: false,
    text: password ? `At least ${MIN_PASSWORD} characters: ${missing} more.` : `At least ${MIN_PASSWORD} characters.`,
  };
}

/** The recovery link's token (`?token_hash=…&type=recovery`), or null when it is not one. */
export function recoveryToken(search: string): string | null {
  const params = new URLSearchParams(search);
  const token = params.get("token_hash");
  return params.get("type") === "recovery" && token ? token : null;
}

/** A file name for today's export: knitter-export-2026-12-01.zip. */
export function exportFileName(now: Date = new Date()): string {
  return `knitter-export-${now.toISOString().slice(0, 10)}.zip`;
}

export const GUEST_SIGN_OUT_WARNING =
  "You are a guest: once you sign out, nothing you imported can be reached again. " +
  "Create an account in Settings → Account to keep it. Sign out anyway?";
