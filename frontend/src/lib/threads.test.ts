import type { WorkspaceRow } from "./rpc";
import { activityRange, clampSimilarity, pickWorkspace, threadTitle, UNTITLED } from "./threads";

describe("threadTitle", () => {
  it("shows the title unless it is empty or not written yet", () => {
    expect(threadTitle({ title: "Sourdough", title_source: "terms" })).toBe("Sourdough");
    expect(threadTitle({ title: "  ", title_source: "user" })).toBe(UNTITLED);
    expect(threadTitle({ title: "", title_source: "pending" })).toBe(UNTITLED);
    expect(threadTitle({ title: "old", title_source: "pending" })).toBe(UNTITLED);
  });
});

describe("clampSimilarity", () => {
  it("keeps values in 0.05–0.95 on 0.05 steps", () => {
    expect(clampSimilarity(0.5)).toBe(0.5);
    expect(clampSimilarity(0.0)).toBe(0.05);
    expect(clampSimilarity(1)).toBe(0.95);
    expect(clampSimilarity(0.62)).toBe(0.6);
    expect(clampSimilarity(0.30000000000000004)).toBe(0.3);
    expect(clampSimilarity(Number.NaN)).toBe(0.5);
  });
});

describe("activityRange", () => {
  const now = new Date(2026, 10, 26);
  it("shows one day or a range", () => {
    const day = new Date(2026, 2, 3, 10).toISOString();
    const later = new Date(2026, 2, 3, 18).toISOString();
    const other = new Date(2026, 3, 5, 12).toISOString();
    expect(activityRange(day, later, now)).toBe(activityRange(day, day, now));
    expect(activityRange(day, other, now)).toContain(" – ");
    expect(activityRange(null, null, now)).toBe("undated");
    expect(activityRange(null, other, now)).not.toContain("–");
  });
});

describe("pickWorkspace", () => {
  const ws = (id: string, is_personal: boolean): WorkspaceRow => ({
    id,
    name: id,
    is_personal,
    role: "owner",
    embedding_model_id: null,
    created_at: "2026-01-01T00:00:00Z",
  });
  it("takes the one asked for, else the personal one, else the first", () => {
    const all = [ws("team", false), ws("me", true)];
    expect(pickWorkspace(all, "team")?.id).toBe("team");
    expect(pickWorkspace(all, "gone")?.id).toBe("me");
    expect(pickWorkspace(all, null)?.id).toBe("me");
    expect(pickWorkspace([ws("team", false)], null)?.id).toBe("team");
    expect(pickWorkspace([], null)).toBeNull();
  });
});
