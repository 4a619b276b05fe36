import { packFileName, tokenState, type AccessTokenRow } from "./agents";

const row = (over: Partial<AccessTokenRow>): AccessTokenRow => ({
  id: "t1",
  name: "agent",
  token_prefix: "knt_12345678",
  scope: "read",
  created_at: "2026-01-01T00:00:00Z",
  expires_at: "2026-04-01T00:00:00Z",
  revoked_at: null,
  last_used_at: null,
  ...over,
});

describe("tokenState", () => {
  const now = new Date("2026-02-01T00:00:00Z");
  it("tells active, expired and revoked tokens apart", () => {
    expect(tokenState(row({}), now)).toBe("active");
    expect(tokenState(row({ expires_at: "2026-01-31T00:00:00Z" }), now)).toBe("expired");
    expect(tokenState(row({ revoked_at: "2026-01-15T00:00:00Z" }), now)).toBe("revoked");
  });
});

describe("packFileName", () => {
  it("makes a safe Markdown file name from a title", () => {
    expect(packFileName("Crème brûlée: the plan / v2")).toBe("creme-brulee-the-plan-v2.md");
    expect(packFileName("../../etc")).toBe("etc.md");
    expect(packFileName("???")).toBe("knitter-pack.md");
  });
});
