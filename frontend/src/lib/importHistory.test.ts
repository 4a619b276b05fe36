import { describe, expect, it } from "vitest";
import type { ImportItemReport, ImportJob } from "./api";
import { historyCounts, historyStatus, plainError } from "./importHistory";

const job = (over: Partial<ImportJob>): ImportJob =>
  ({
    status: "succeeded",
    added: 1,
    updated: 0,
    skipped: 0,
    failed: 0,
    passages: 4,
    embedding_pending: 0,
    meaning_pending: 0,
    items_total: 1,
    items_done: 1,
    errors: [],
    ...over,
  }) as ImportJob;

describe("historyStatus", () => {
  it("says failed for failed jobs, never importing", () => {
    expect(historyStatus(job({ status: "failed" }))).toBe("Failed");
    expect(historyStatus(job({ added: 0, failed: 1 }))).toBe("Failed");
    expect(historyStatus(job({ failed: 1 }))).toBe("Done, with failures");
    expect(historyStatus(job({ status: "running" }))).toBe("Importing…");
    expect(historyStatus(job({ embedding_pending: 3 }))).toBe("Indexing for meaning search…");
    expect(historyStatus(job({}))).toBe("Done");
  });
});

describe("plainError", () => {
  it("drops the repeated name and errno codes", () => {
    expect(plainError("a.zip", "a.zip: a damaged or incomplete zip")).toBe("A damaged or incomplete zip");
    expect(plainError("x/b.json", "b.json: [Errno -2] Name or service not known")).toBe("Name or service not known");
    expect(plainError("c", "")).toBe("Unknown error");
  });
});

describe("historyCounts", () => {
  it("shows the job's own passages still embedding, never for a failed job", () => {
    expect(historyCounts(job({ embedding_pending: 3 }))).toContain("full quality: 1 / 4");
    expect(historyCounts(job({ status: "failed", embedding_pending: 3 }))).not.toContain("full quality");
  });

  it("lists the counts there are, as the import dialog does", () => {
    expect(historyCounts(job({ skipped: 2 }))).toBe("1 added · 2 already imported · 4 passages");
    const skips = ["conversation 2 ('Corrupted entry'): no messages"];
    expect(historyCounts(job({ skipped: 2, items: [{ skips } as ImportItemReport] }))).toBe(
      "1 added · 1 already imported · 1 skipped · 4 passages",
    );
    expect(historyCounts(job({ meaning_pending: 0, embedding_pending: 3 }))).toBe(
      "1 added · 4 passages · searchable by meaning: 4 / 4 · full quality: 1 / 4",
    );
    expect(historyCounts(job({ updated: 2, failed: 1, passages: 1 }))).toBe("1 added · 2 updated · 1 failed · 1 passage");
  });
});
