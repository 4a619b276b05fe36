// Writes dist/config.js from the environment, for hosts that serve dist/ as static files
// (Vercel). `knitter dev` serves its own /config.js instead. Usage: write-config.mjs [OUT]
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const env = process.env;
const pick = (...names) => names.map((n) => env[n]).find((v) => v && v.trim()) ?? "";
const config = {
  supabaseUrl: pick("VITE_SUPABASE_URL", "SUPABASE_URL"),
  supabaseAnonKey: pick("VITE_SUPABASE_ANON_KEY", "SUPABASE_ANON_KEY"),
  apiUrl: pick("VITE_API_URL", "KNITTER_API_URL"),
  sentryDsn: pick("VITE_SENTRY_DSN"),
  environment: pick("VERCEL_ENV", "VITE_ENVIRONMENT") || "production",
};
const missing = ["supabaseUrl", "supabaseAnonKey", "apiUrl"].filter((k) => !config[k]);
if (missing.length) {
  console.error(`write-config: missing ${missing.join(", ")} (set VITE_SUPABASE_URL, VITE_SUPABASE_ANON_KEY, VITE_API_URL)`);
  process.exit(1);
}
const target = process.argv[2] ?? fileURLToPath(new URL("../dist/config.js", import.meta.url));
writeFileSync(target, `window.__KNITTER_CONFIG__ = ${JSON.stringify(config)};\n`);
console.log(`write-config: wrote ${target}`);
