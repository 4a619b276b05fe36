import { useEffect } from "react";
import { Navigate, Route, Routes, useLocation, useNavigate } from "react-router-dom";
import { useAuth } from "./auth";
import { AppHeader } from "./components/AppHeader";
import { AuthScreen } from "./components/AuthScreen";
import { ResetPasswordScreen } from "./components/ResetPasswordScreen";
import { SEARCH_INPUT_ID, shouldFocusSearch } from "./lib/keyboard";
import { ConversationPage } from "./pages/ConversationPage";
import { ImportsPage } from "./pages/ImportsPage";
import { SearchPage } from "./pages/SearchPage";
import { SettingsPage } from "./pages/SettingsPage";
import { SourcesPage } from "./pages/SourcesPage";
import { ThreadPage } from "./pages/ThreadPage";
import { ThreadsPage } from "./pages/ThreadsPage";

function useSlashFocusesSearch() {
  const navigate = useNavigate();
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (!shouldFocusSearch(event)) return;
      event.preventDefault();
      const input = document.getElementById(SEARCH_INPUT_ID);
      if (input) input.focus();
      else navigate("/search", { state: { focus: true } });
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [navigate]);
}

function SignedInApp() {
  useSlashFocusesSearch();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <AppHeader />
      <main id="main" className="page">
        <Routes>
          <Route path="/" element={<Navigate to="/search" replace />} />
          <Route path="/search" element={<SearchPage />} />
          <Route path="/sources" element={<SourcesPage />} />
          <Route path="/sources/:sourceId" element={<ConversationPage />} />
          <Route path="/threads" element={<ThreadsPage />} />
          <Route path="/threads/:threadId" element={<ThreadPage />} />
          <Route path="/settings" element={<SettingsPage />} />
          <Route path="/imports" element={<ImportsPage />} />
          <Route path="*" element={<p>Nothing here. <a href="/search">Go to search</a>.</p>} />
        </Routes>
      </main>
    </>
  );
}

export function App() {
  const { session, loading } = useAuth();
  // The recovery link signs in by itself: its page comes before the sign-in gate.
  if (useLocation().pathname === "/reset-password") return <ResetPasswordScreen />;
  if (loading) return <p className="centered" aria-busy="true">Loading…</p>;
  return session ? <SignedInApp key={session.user.id} /> : <AuthScreen />;
}
