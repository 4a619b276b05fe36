import { useState, type FormEvent } from "react";
import { supabase } from "../lib/supabase";

type Mode = "sign-in" | "sign-up";

export function AuthScreen() {
  const [mode, setMode] = useState<Mode>("sign-in");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function run(action: () => Promise<{ error: { message: string } | null }>) {
    setBusy(true);
    setError(null);
    try {
      const { error: failure } = await action();
      if (failure) setError(failure.message);
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : "Something went wrong.");
    } finally {
      setBusy(false);
    }
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    const auth = supabase().auth;
    void run(() =>
      mode === "sign-in"
        ? auth.signInWithPassword({ email, password })
        : auth.signUp({ email, password }),
    );
  }

  return (
    <main className="auth-screen">
      <section className="card auth-card" aria-labelledby="auth-title">
        <h1 id="auth-title" className="brand">knitter</h1>
        <p className="muted">Keep, search and reuse your AI conversations.</p>
        <div className="tabs" role="tablist" aria-label="Account">
          {(["sign-in", "sign-up"] as const).map((m) => (
            <button
              key={m}
              type="button"
              role="tab"
              aria-selected={mode === m}
              className={mode === m ? "tab active" : "tab"}
              onClick={() => {
                setMode(m);
                setError(null);
              }}
            >
              {m === "sign-in" ? "Sign in" : "Create account"}
            </button>
          ))}
        </div>
        <form onSubmit={submit} className="stack" aria-label={mode === "sign-in" ? "Sign in" : "Create account"}>
          <label>
            Email
            <input type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
          </label>
          <label>
            Password
            <input
              type="password"
              autoComplete={mode === "sign-in" ? "current-password" : "new-password"}
              required
              minLength={mode === "sign-up" ? 8 : undefined}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </label>
          {error && (
            <p role="alert" className="error">
              {error}
            </p>
          )}
          <button type="submit" className="primary" disabled={busy}>
            {mode === "sign-in" ? "Sign in" : "Create account"}
          </button>
        </form>
        <div className="divider">or</div>
        <button type="button" disabled={busy} onClick={() => void run(() => supabase().auth.signInAnonymously())}>
          Continue as guest
        </button>
        <p className="muted small">A guest's data lives only in this browser session's account.</p>
      </section>
    </main>
  );
}
