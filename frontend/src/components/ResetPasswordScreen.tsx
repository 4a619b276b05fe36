import { useEffect, useRef, useState, type FormEvent } from "react";
import { useLocation, useNavigate } from "react-router-dom";
import { MIN_PASSWORD, passwordProblem, recoveryToken } from "../lib/account";
import { supabase } from "../lib/supabase";
import { PasswordRule } from "./AuthScreen";

type Stage = { kind: "verifying" } | { kind: "ready" } | { kind: "invalid"; text: string };

/** The recovery mail's link: its token is traded (once) for a session, in which the new
 * password is set with updateUser, as on Supabase. */
export function ResetPasswordScreen() {
  const location = useLocation();
  const navigate = useNavigate();
  const token = recoveryToken(location.search);
  const [stage, setStage] = useState<Stage>(
    token ? { kind: "verifying" } : { kind: "invalid", text: "This link is incomplete: ask for a new one." },
  );
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // The token works once: React's development double effects must not spend it twice.
  const spent = useRef(false);

  useEffect(() => {
    if (!token || spent.current) return;
    spent.current = true;
    void supabase()
      .auth.verifyOtp({ token_hash: token, type: "recovery" })
      .then(({ error: failure }) =>
        setStage(
          failure
            ? { kind: "invalid", text: "This link has expired or was already used: ask for a new one." }
            : { kind: "ready" },
        ),
      );
  }, [token]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const problem = passwordProblem(password, repeat);
    if (problem) return setError(problem);
    setBusy(true);
    const { error: failure } = await supabase().auth.updateUser({ password });
    setBusy(false);
    if (failure) return setError(failure.message);
    navigate("/search", { replace: true });
  }

  return (
    <main className="auth-screen">
      <section className="card auth-card" aria-labelledby="reset-title">
        <h1 id="reset-title" className="brand">knitter</h1>
        <h2 className="auth-subtitle">Choose a new password</h2>
        {stage.kind === "verifying" && <p aria-busy="true">Checking the link…</p>}
        {stage.kind === "invalid" && (
          <>
            <p role="alert" className="error">
              {stage.text}
            </p>
            <button type="button" onClick={() => navigate("/", { replace: true })}>
              Back to sign in
            </button>
          </>
        )}
        {stage.kind === "ready" && (
          <form className="stack" aria-label="Choose a new password" onSubmit={(e) => void submit(e)}>
            <label>
              New password
              <input
                type="password"
                required
                minLength={MIN_PASSWORD}
                autoComplete="new-password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                aria-describedby="reset-password-rule"
              />
            </label>
            <label>
              Repeat it
              <input type="password" required autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.target.value)} />
            </label>
            <PasswordRule id="reset-password-rule" password={password} />
            {error && (
              <p role="alert" className="error">
                {error}
              </p>
            )}
            <button type="submit" className="primary" disabled={busy}>
              {busy ? "Saving…" : "Save the new password"}
            </button>
          </form>
        )}
      </section>
    </main>
  );
}
