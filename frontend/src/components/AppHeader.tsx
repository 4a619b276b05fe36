import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { NavLink } from "react-router-dom";
import { useSession } from "../auth";
import { GUEST_SIGN_OUT_WARNING } from "../lib/account";
import { supabase } from "../lib/supabase";
import { ImportDialog } from "./ImportDialog";

export function AppHeader() {
  const session = useSession();
  const queryClient = useQueryClient();
  const [importing, setImporting] = useState(false);
  const guest = session.user.is_anonymous === true;

  async function signOut() {
    // A guest's data is reachable only through this session.
    if (guest && !window.confirm(GUEST_SIGN_OUT_WARNING)) return;
    await supabase().auth.signOut();
    queryClient.clear();
  }

  return (
    <header className="app-header">
      <NavLink to="/search" className="brand" aria-label="knitter: search">
        knitter
      </NavLink>
      <nav aria-label="Main">
        <NavLink to="/search">Search</NavLink>
        <NavLink to="/sources">Sources</NavLink>
        <NavLink to="/imports">Imports</NavLink>
        <NavLink to="/threads">Threads</NavLink>
        <NavLink to="/settings">Settings</NavLink>
      </nav>
      <div className="header-actions">
        <button type="button" className="primary" onClick={() => setImporting(true)}>
          Import
        </button>
        <span className="who" title={guest ? "Guest session" : session.user.email}>
          {guest ? "Guest" : session.user.email}
        </span>
        <button type="button" onClick={() => void signOut()}>
          Sign out
        </button>
      </div>
      {importing && <ImportDialog onClose={() => setImporting(false)} />}
    </header>
  );
}
