/// <reference types="node" />
// @vitest-environment node
// scripts/write-config.mjs: the runtime configuration Vercel's build writes from its env.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { resolveConfig } from "./lib/config";

const script = fileURLToPath(new URL("../scripts/write-config.mjs", import.meta.url));
const bare = { PATH: process.env["PATH"] ?? "" };

describe("write-config.mjs", () => {
  it("writes window.__KNITTER_CONFIG__ from the VITE_* variables", () => {
    const out = join(mkdtempSync(join(tmpdir(), "knitter-config-")), "config.js");
    execFileSync("node", [script, out], {
      env: {
        ...bare,
        VITE_SUPABASE_URL: "https://abc.supabase.co",
        VITE_SUPABASE_ANON_KEY: "anon",
        VITE_API_URL: "https://api.example.org",
        VERCEL_ENV: "preview",
      },
    });
    const text = readFileSync(out, "utf8");
    const window: { __KNITTER_CONFIG__?: Record<string, unknown> } = {};
    new Function("window", text)(window);
    expect(resolveConfig(window.__KNITTER_CONFIG__, {})).toEqual({
      supabaseUrl: "https://abc.supabase.co",
      supabaseAnonKey: "anon",
      apiUrl: "https://api.example.org",
      sentryDsn: "",
      environment: "preview",
    });
  });

  it("fails the build, naming what is missing", () => {
    const out = join(mkdtempSync(join(tmpdir(), "knitter-config-")), "config.js");
    const run = spawnSync("node", [script, out], {
      env: { ...bare, VITE_SUPABASE_URL: "https://abc.supabase.co" },
      encoding: "utf8",
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/missing supabaseAnonKey, apiUrl/);
  });
});
