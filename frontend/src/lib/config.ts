/** Runtime configuration: `window.__KNITTER_CONFIG__` from /config.js (knitter dev, or the
 * file scripts/write-config.mjs writes on Vercel), else Vite's VITE_* variables (vite dev). */
export interface AppConfig {
  supabaseUrl: string;
  supabaseAnonKey: string;
  apiUrl: string;
  sentryDsn: string;
  environment: string;
}

type RawConfig = Partial<Record<keyof AppConfig, unknown>>;

declare global {
  interface Window {
    __KNITTER_CONFIG__?: RawConfig;
  }
}

export class ConfigError extends Error {}

function text(value: unknown): string {
  return typeof value === "string" ? value.trim() : "";
}

function httpUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} is not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`${name} must be an http(s) URL`);
  }
  return value.replace(/\/+$/, "");
}

/** Validates and normalises a raw configuration (the window one wins over the env one). */
export function resolveConfig(fromWindow: RawConfig | undefined, fromEnv: RawConfig): AppConfig {
  const get = (key: keyof AppConfig): string => text(fromWindow?.[key]) || text(fromEnv[key]);
  const missing = (["supabaseUrl", "supabaseAnonKey", "apiUrl"] as const).filter((k) => !get(k));
  if (missing.length > 0) {
    throw new ConfigError(`missing runtime configuration: ${missing.join(", ")}`);
  }
  return {
    supabaseUrl: httpUrl("supabaseUrl", get("supabaseUrl")),
    supabaseAnonKey: get("supabaseAnonKey"),
    apiUrl: httpUrl("apiUrl", get("apiUrl")),
    sentryDsn: get("sentryDsn"),
    environment: get("environment") || "development",
  };
}

let cached: AppConfig | undefined;

export function appConfig(): AppConfig {
  cached ??= resolveConfig(window.__KNITTER_CONFIG__, {
    supabaseUrl: import.meta.env.VITE_SUPABASE_URL,
    supabaseAnonKey: import.meta.env.VITE_SUPABASE_ANON_KEY,
    apiUrl: import.meta.env.VITE_API_URL,
    sentryDsn: import.meta.env.VITE_SENTRY_DSN,
    environment: import.meta.env.MODE,
  });
  return cached;
}
