// Supabase Edge Function `embed-pending`: see handler.ts. Deploy with
// `supabase functions deploy embed-pending` and set KNITTER_API_URL as a function secret.
import { handler } from "./handler.ts";

Deno.serve((req) => handler(req, Deno.env.toObject(), fetch));
