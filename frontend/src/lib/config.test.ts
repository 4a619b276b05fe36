import { ConfigError, resolveConfig } from "./config";

const complete = {
  supabaseUrl: "http://127.0.0.1:54321/",
  supabaseAnonKey: " anon ",
  apiUrl: "https://api.example.org",
};

describe("resolveConfig", () => {
  it("normalises the window configuration", () => {
    expect(resolveConfig(complete, {})).toEqual({
      supabaseUrl: "http://127.0.0.1:54321",
      supabaseAnonKey: "anon",
      apiUrl: "https://api.example.org",
      sentryDsn: "",
      environment: "development",
    });
  });

  it("prefers the window over the build-time environment, field by field", () => {
    const config = resolveConfig(
      { supabaseUrl: "https://a.supabase.co" },
      { ...complete, sentryDsn: "https://k@o1.ingest.sentry.io/1", environment: "production" },
    );
    expect(config.supabaseUrl).toBe("https://a.supabase.co");
    expect(config.apiUrl).toBe("https://api.example.org");
    expect(config.sentryDsn).toBe("https://k@o1.ingest.sentry.io/1");
    expect(config.environment).toBe("production");
  });

  it("names what is missing", () => {
    expect(() => resolveConfig(undefined, { apiUrl: "https://x.org" })).toThrow(
      new ConfigError("missing runtime configuration: supabaseUrl, supabaseAnonKey"),
    );
  });

  it("refuses what is not an http(s) URL", () => {
    expect(() => resolveConfig({ ...complete, apiUrl: "javascript:alert(1)" }, {})).toThrow(
      /apiUrl must be an http\(s\) URL/,
    );
    expect(() => resolveConfig({ ...complete, supabaseUrl: "localhost" }, {})).toThrow(/not a URL/);
  });

  it("ignores values that are not strings", () => {
    expect(() => resolveConfig({ ...complete, supabaseAnonKey: 42 }, {})).toThrow(/supabaseAnonKey/);
  });
});
