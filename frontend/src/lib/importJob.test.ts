import type { ImportItemReport, ImportJob } from "./api";
import {
  failureText,
  indexingStages,
  isJobActive,
  itemReport,
  jobFiles,
  jobPhase,
  jobSummary,
  overallProgress,
  phaseWord,
} from "./importJob";

const job = (change: Partial<ImportJob>): ImportJob => ({
  id: "j",
  workspace_id: "w",
  status: "succeeded",
  items_total: 4,
  items_done: 4,
  added: 3,
  updated: 0,
  skipped: 1,
  failed: 0,
  passages: 9,
  errors: [],
  items: [],
  files: [],
  embedding_pending: 0,
  meaning_pending: 0,
  created_at: "2026-01-01T00:00:00Z",
  started_at: null,
  finished_at: null,
  ...change,
});

const itemFor = (name: string): ImportItemReport => ({
  item: name,
  formats: ["ChatGPT export"],
  added: 3,
  updated: 0,
  skipped: 0,
  failed: 0,
  messages: 9,
  alternatives: 0,
  left_out: {},
  side_files: 0,
  skips: [],
});

describe("import jobs", () => {
  it("a failed job is finished and never says Importing, whatever is still queued", () => {
    for (const failed of [
      job({ status: "failed", embedding_pending: 7 }),
      job({ status: "interrupted", embedding_pending: 7 }),
      job({ added: 0, skipped: 0, failed: 2, embedding_pending: 7 }),
    ]) {
      expect(isJobActive(failed)).toBe(false);
      expect(phaseWord(jobPhase(failed))).toBe("Failed");
      expect(jobSummary(failed)).not.toContain("embedding");
    }
    expect(phaseWord(jobPhase(job({ status: "running" })))).toBe("Importing");
    expect(phaseWord(jobPhase(job({ embedding_pending: 2 })))).toBe("Embedding");
  });

  it("names its files with their sizes, links without", () => {
    const two = job({
      files: [
        { name: "conversations.json", size: 2048 },
        { name: "conversations.json", size: 3 * 1024 * 1024 },
        { name: "https://chatgpt.com/share/x", size: null },
      ],
    });
    expect(jobFiles(two)).toEqual([
      "conversations.json · 2.0 KiB",
      "conversations.json · 3.0 MiB",
      "https://chatgpt.com/share/x",
    ]);
  });

  it("stays active while running or embedding", () => {
    expect(isJobActive(job({ status: "running" }))).toBe(true);
    expect(isJobActive(job({ embedding_pending: 3 }))).toBe(true);
    expect(isJobActive(job({}))).toBe(false);
  });

  it("has a phase", () => {
    expect(jobPhase(job({ status: "queued" }))).toBe("importing");
    expect(jobPhase(job({ embedding_pending: 2 }))).toBe("embedding");
    expect(jobPhase(job({}))).toBe("done");
    expect(jobPhase(job({ status: "failed" }))).toBe("failed");
    expect(jobPhase(job({ added: 0, skipped: 0, failed: 2 }))).toBe("failed");
  });

  it("weighs the upload as the first fifth of the progress", () => {
    expect(overallProgress(0.5, null)).toBeCloseTo(0.1);
    expect(overallProgress(2, null)).toBeCloseTo(0.2);
    expect(overallProgress(1, job({ status: "running", items_done: 2, items_total: 4 }))).toBeCloseTo(0.6);
    expect(overallProgress(1, job({ status: "running", items_total: 0, items_done: 0 }))).toBeCloseTo(0.2);
    expect(overallProgress(1, job({}))).toBe(1);
  });

  it("summarises", () => {
    // A skipped input without a reason is a conversation knitter already had.
    expect(jobSummary(job({}))).toBe("3 added, 1 already imported; 9 passages");
    const empty = { ...itemFor("chats.json"), skipped: 2, skips: ["conversation 2 ('Corrupted entry'): no messages"] };
    expect(jobSummary(job({ skipped: 2, items: [empty] }))).toBe("3 added, 1 already imported, 1 skipped; 9 passages");
    // The workspace's queue may hold more than this job's passages: capped at the job's.
    expect(jobSummary(job({ added: 1, failed: 1, skipped: 0, passages: 1, embedding_pending: 5 }))).toBe(
      "1 added, 1 failed; 1 passage (searchable by meaning: 1 / 1 · full quality: 0 / 1)",
    );
    // Counts as the stages and `knitter import` write them: "18,230", not "18230".
    expect(jobSummary(job({ added: 1412, skipped: 0, passages: 18230, embedding_pending: 1230 }))).toBe(
      "1,412 added; 18,230 passages (searchable by meaning: 18,230 / 18,230 · full quality: 17,000 / 18,230)",
    );
  });

  it("shows both stages of meaning search while they run", () => {
    const first = job({ passages: 15210, meaning_pending: 15210, embedding_pending: 15210 });
    expect(indexingStages(first)).toBe("searchable by meaning: 0 / 15,210 · full quality: 0 / 15,210");
    expect(jobPhase(first)).toBe("embedding");
    const later = job({ passages: 15210, meaning_pending: 0, embedding_pending: 11110 });
    expect(indexingStages(later)).toBe("searchable by meaning: 15,210 / 15,210 · full quality: 4,100 / 15,210");
    expect(isJobActive(job({ meaning_pending: 1 }))).toBe(true);
    expect(indexingStages(job({}))).toBeNull();
  });
});

describe("an item's report", () => {
  it("names the format, the messages kept, what was left out and the side files", () => {
    const report = {
      item: "chatgpt-export.zip",
      formats: ["ChatGPT export"],
      added: 7,
      updated: 0,
      skipped: 0,
      failed: 0,
      messages: 25,
      alternatives: 0,
      left_out: { reasoning: 3, plumbing: 11, audio: 4 },
      side_files: 10,
      skips: [],
    };
    expect(itemReport(report)).toBe(
      "ChatGPT export; 25 messages kept; left out: 11 hidden tool and system messages, 4 audio clips, 3 reasoning steps; ignored: 10 side files",
    );
    expect(itemReport({ ...report, formats: [], messages: 1, left_out: {}, side_files: 0 })).toBe(
      "nothing imported; 1 message kept",
    );
    expect(itemReport({ ...report, left_out: { files: 1, images: 1, stickers: 2 }, side_files: 0 })).toBe(
      "ChatGPT export; 25 messages kept; left out: 2 stickers, 1 attached file, 1 image",
    );
    // A file that failed whole: "0 messages kept" would add nothing.
    expect(itemReport({ ...report, formats: [], added: 0, failed: 1, messages: 0, left_out: {}, side_files: 0 })).toBe(
      "nothing imported",
    );
  });

  it("says what of the file failed, not the file's name again", () => {
    const player = "youtube-transcript-api-ww1_nl_en.innertube.json";
    expect(failureText({ item: player, origin: player, message: "a YouTube player response: …" })).toBe(
      "a YouTube player response: …",
    );
    expect(
      failureText({ item: "export.zip:conversations.json", origin: "export.zip", message: "not valid JSON" }),
    ).toBe("conversations.json: not valid JSON");
    expect(failureText({ item: "import", origin: "", message: "the import stopped on an internal error" })).toBe(
      "the import stopped on an internal error",
    );
  });
});
