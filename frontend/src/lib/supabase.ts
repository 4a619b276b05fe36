import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { appConfig } from "./config";

let client: SupabaseClient | undefined;

export function supabase(): SupabaseClient {
  if (!client) {
    const { supabaseUrl, supabaseAnonKey } = appConfig();
    client = createClient(supabaseUrl, supabaseAnonKey, {
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
