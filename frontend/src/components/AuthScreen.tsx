import { useState, type FormEvent } from "react";
import { MIN_PASSWORD, passwordRule } from "../lib/account";
import { appConfig } from "../lib/config";
import { supabase } from "../lib/supabase";

type Mode = "sign-in" | "sign-up" | "recover";

const TITLES: Record<Mode, string> = {
  "sign-in": "Sign in",
  "sign-up": "Create account",
  recover: "Reset your password",
};

/** The length rule under a new password, updated as the person types. */
export function PasswordRule({ id, password }: { id: string; password: string }) {
  const rule = passwordRule(password);
  return (
    <p id={id} className={rule.met ? "muted small rule-met" : "muted small"} aria-live="polite">
      {rule.text}
    </p>
  );
}

export function AuthScreen() {
  const [mode, setMode] = useState<Mode>("sign-in");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  function switchTo(next: Mode) {
    setMode(next);
    setError(null);
    setNotice(null);
  }

  async function run(action: () => Promise<{ error: { message: string } | null }>, done?: () => void) {
    setBusy(true);
    setError(null);
    try {
      const { error: failure } = await action();
      if (failure) setError(failure.message);
      else done?.();
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : "Something went wrong.");
    } finally {
      setBusy(false);
    }
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    const auth = supabase().auth;
    if (mode === "recover") {
      const redirectTo = `${window.location.origin}/reset-password`;
      void run(
        () => auth.resetPasswordForEmail(email.trim(), { redirectTo }),
        // The same words whether or not the address has an account: the server never says.
        () =>
          setNotice(
            `If ${email.trim()} has a knitter account, a link to choose a new password is on its way.` +
              // knitter dev serves its gateway on the app's own origin, and sends no mail.
              (new URL(appConfig().supabaseUrl, window.location.href).origin === window.location.origin
                ? " This local stack has no mail server: the terminal running `knitter dev` shows the link (also saved in the outbox folder of its home)."
                : ""),
          ),
      );
      return;
    }
    void run(() => (mode === "sign-in" ? auth.signInWithPassword({ email, password }) : auth.signUp({ email, password })));
  }

  return (
    <main className="auth-screen">
      <section className="card auth-card" aria-labelledby="auth-title">
        <h1 id="auth-title" className="brand">knitter</h1>
        <p className="muted">Keep, search and reuse your AI conversations.</p>
        {mode === "recover" ? (
          <h2 className="auth-subtitle">Reset your password</h2>
        ) : (
          <div className="tabs" role="tablist" aria-label="Account">
            {(["sign-in", "sign-up"] as const).map((m) => (
              <button
                key={m}
                type="button"
                role="tab"
                aria-selected={mode === m}
                className={mode === m ? "tab active" : "tab"}
                onClick={() => switchTo(m)}
              >
                {TITLES[m]}
              </button>
            ))}
          </div>
        )}
        <form onSubmit={submit} className="stack" aria-label={TITLES[mode]}>
          <label>
            Email
            <input type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
          </label>
          {mode !== "recover" && (
            <label>
              Password
              <input
                type="password"
                autoComplete={mode === "sign-in" ? "current-password" : "new-password"}
                required
                minLength={mode === "sign-up" ? MIN_PASSWORD : undefined}
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                aria-describedby={mode === "sign-up" ? "sign-up-password-rule" : undefined}
              />
            </label>
          )}
          {mode === "sign-up" && <PasswordRule id="sign-up-password-rule" password={password} />}
          {error && (
            <p role="alert" className="error">
              {error}
            </p>
          )}
          {notice && (
            <p role="status" className="notice">
              {notice}
            </p>
          )}
          <button type="submit" className="primary" disabled={busy}>
            {mode === "recover" ? "Send the reset link" : TITLES[mode]}
          </button>
          {mode === "sign-in" && (
            <button type="button" className="link-button small" onClick={() => switchTo("recover")}>
              Forgot password?
            </button>
          )}
          {mode === "recover" && (
            <button type="button" className="link-button small" onClick={() => switchTo("sign-in")}>
              Back to sign in
            </button>
          )}
        </form>
        {mode !== "recover" && (
          <>
            <div className="divider">or</div>
            <button type="button" disabled={busy} onClick={() => void run(() => supabase().auth.signInAnonymously())}>
              Continue as guest
            </button>
            <p className="muted small">A guest's data lives only in this browser session's account.</p>
          </>
        )}
      </section>
    </main>
  );
}
