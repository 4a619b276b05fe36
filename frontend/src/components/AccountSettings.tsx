import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useSession } from "../auth";
import { MIN_PASSWORD, exportFileName, passwordProblem } from "../lib/account";
import { DELETE_PHRASE, deleteAccount, exportData } from "../lib/api";
import { supabase } from "../lib/supabase";

type Status = { kind: "ok" | "error"; text: string } | null;

function StatusLine({ status }: { status: Status }) {
  if (!status) return null;
  return status.kind === "ok" ? (
    <p role="status" className="small ok">
      {status.text}
    </p>
  ) : (
    <p role="alert" className="small error">
      {status.text}
    </p>
  );
}

/** A guest turns their session into an account: same user, so every import stays. */
function KeepAsAccount({ onDone }: { onDone: () => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [status, setStatus] = useState<Status>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const problem = passwordProblem(password, password);
    if (problem) return setStatus({ kind: "error", text: problem });
    setBusy(true);
    const auth = supabase().auth;
    const { error } = await auth.updateUser({ email: email.trim(), password });
    // A fresh token says is_anonymous: false (keys, upload limits follow it).
    const refreshed = error ? null : await auth.refreshSession();
    setBusy(false);
    const failure = error ?? refreshed?.error;
    // On success this form goes away (the session is no guest's any more): the parent says so.
    if (failure) setStatus({ kind: "error", text: failure.message });
    else onDone();
  }

  return (
    <form className="account-form" aria-label="Create an account" onSubmit={(e) => void submit(e)}>
      <p className="muted small">
        You are a guest. Create an account to keep what you imported and sign in again later.
      </p>
      <label>
        Email
        <input type="email" required autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <label>
        New password
        <input type="password" required minLength={MIN_PASSWORD} autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} aria-describedby="keep-password-rule" />
      </label>
      <p id="keep-password-rule" className="muted small">
        At least {MIN_PASSWORD} characters.
      </p>
      <button type="submit" className="primary" disabled={busy}>
        {busy ? "Creating…" : "Create account"}
      </button>
      <StatusLine status={status} />
    </form>
  );
}

function ChangePassword() {
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [status, setStatus] = useState<Status>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const problem = passwordProblem(password, repeat);
    if (problem) return setStatus({ kind: "error", text: problem });
    setBusy(true);
    const { error } = await supabase().auth.updateUser({ password });
    setBusy(false);
    if (error) return setStatus({ kind: "error", text: error.message });
    setPassword("");
    setRepeat("");
    setStatus({ kind: "ok", text: "Password changed; your other sessions were signed out." });
  }

  return (
    <form className="account-form" aria-label="Change password" onSubmit={(e) => void submit(e)}>
      <label>
        New password
        <input type="password" required minLength={MIN_PASSWORD} autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} aria-describedby="new-password-rule" />
      </label>
      <label>
        Repeat it
        <input type="password" required autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.target.value)} />
      </label>
      <p id="new-password-rule" className="muted small">
        At least {MIN_PASSWORD} characters.
      </p>
      <button type="submit" disabled={busy}>
        {busy ? "Changing…" : "Change password"}
      </button>
      <StatusLine status={status} />
    </form>
  );
}

function ExportData() {
  const [status, setStatus] = useState<Status>(null);
  const [busy, setBusy] = useState(false);

  async function download() {
    setBusy(true);
    setStatus(null);
    try {
      const url = URL.createObjectURL(await exportData());
      const link = document.createElement("a");
      link.href = url;
      link.download = exportFileName();
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      setStatus({ kind: "ok", text: "Your export is downloading." });
    } catch (error) {
      setStatus({ kind: "error", text: error instanceof Error ? error.message : String(error) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="account-form">
      <p className="muted small">
        A zip of everything you own: conversations.json and one Markdown file per conversation.
      </p>
      <button type="button" onClick={() => void download()} disabled={busy}>
        {busy ? "Preparing…" : "Export my data"}
      </button>
      <StatusLine status={status} />
    </div>
  );
}

function DeleteAccount() {
  const queryClient = useQueryClient();
  const [typed, setTyped] = useState("");
  const [status, setStatus] = useState<Status>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (typed.trim().toLowerCase() !== DELETE_PHRASE) return;
    setBusy(true);
    try {
      await deleteAccount();
    } catch (error) {
      setBusy(false);
      return setStatus({ kind: "error", text: error instanceof Error ? error.message : String(error) });
    }
    // The user is gone on the server: drop this browser's session and cache.
    await supabase().auth.signOut({ scope: "local" });
    queryClient.clear();
  }

  return (
    <form className="account-form danger-zone" aria-label="Delete account" onSubmit={(e) => void submit(e)}>
      <p className="small">
        Deletes your account and everything you imported, for good. Type <strong>{DELETE_PHRASE}</strong> to confirm.
      </p>
      <label>
        Confirmation
        <input value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" />
      </label>
      <button type="submit" className="danger" disabled={busy || typed.trim().toLowerCase() !== DELETE_PHRASE}>
        {busy ? "Deleting…" : "Delete my account"}
      </button>
      <StatusLine status={status} />
    </form>
  );
}

/** Settings → Account. */
export function AccountSettings() {
  const session = useSession();
  const guest = session.user.is_anonymous === true;
  const [upgraded, setUpgraded] = useState(false);
  return (
    <section className="card" aria-labelledby="account-title">
      <h2 id="account-title">Account</h2>
      {upgraded && <StatusLine status={{ kind: "ok", text: "Your account is ready; everything you imported is kept." }} />}
      {guest ? <KeepAsAccount onDone={() => setUpgraded(true)} /> : (
        <>
          <p className="muted small">Signed in as {session.user.email}.</p>
          <ChangePassword />
        </>
      )}
      <ExportData />
      <DeleteAccount />
    </section>
  );
}
