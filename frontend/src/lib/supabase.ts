import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { appConfig } from "./config";
import type { Database } from "./database.types";

let client: SupabaseClient<Database> | undefined;

/** The client, typed by the database's own signatures: every `rpc(...)` call is checked. */
export function supabase(): SupabaseClient<Database> {
  if (!client) {
    const { supabaseUrl, supabaseAnonKey } = appConfig();
    client = createClient<Database>(supabaseUrl, supabaseAnonKey, {
      auth: { persistSession: true, autoRefreshToken: true, storageKey: "knitter.auth" },
    });
  }
  return client;
}

export async function accessToken(): Promise<string> {
  const { data } = await supabase().auth.getSession();
  const token = data.session?.access_token;
  if (!token) throw new Error("You are signed out. Sign in again.");
  return token;
}
