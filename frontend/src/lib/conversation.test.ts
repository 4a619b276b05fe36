import { choicesFor, shownMessages } from "./conversation";
import type { Json } from "./database.types";
import type { PassageRow } from "./rpc";

let id = 0;
function row(message_index: number, content: string, metadata: { [key: string]: Json } = {}): PassageRow {
  id += 1;
  return {
    chunk_id: id,
    message_index,
    chunk_index: 0,
    role: message_index % 2 ? "assistant" : "user",
    author: null,
    model: null,
    created_at: null,
    content,
    metadata,
  };
}

// The fixture's sourdough chat: answer 1 was regenerated (old answer: branch 1), prompt 2
// was edited (the abandoned edit and its answer: branch 2).
const current = [
  row(0, "starter smells of acetone"),
  row(1, "not dead, just hungry", { version: 2, versions: 2 }),
  row(2, "how long until it doubles", { version: 2, versions: 2 }),
  row(3, "three to five days"),
];
const alternatives = [
  row(4, "OLD ANSWER", { alternative_of: 1, branch: 1, version: 1, versions: 2 }),
  row(5, "ABANDONED EDIT", { alternative_of: 2, branch: 2, version: 1, versions: 2 }),
  row(6, "ABANDONED ANSWER", { alternative_of: 2, branch: 2 }),
];
const text = (shown: ReturnType<typeof shownMessages>) => shown.map((m) => m.message.passages[0]?.content);

describe("shownMessages", () => {
  it("shows the branch last seen, with a versions control where there are others", () => {
    const shown = shownMessages(current, alternatives, new Map());
    expect(text(shown)).toEqual(current.map((p) => p.content));
    expect(shown[0]?.versions).toBeNull();
    expect(shown[1]?.versions).toMatchObject({ anchor: 1, shown: 1 });
    expect(shown[1]?.versions?.options).toEqual([
      { branch: 1, version: 1 },
      { branch: null, version: 2 },
    ]);
    expect(shown[2]?.versions?.options.map((o) => o.branch)).toEqual([2, null]);
    expect(shown.every((m) => m.branch === null)).toBe(true);
  });

  it("replaces the message and what follows with the version picked", () => {
    const edit = shownMessages(current, alternatives, new Map([[2, 2]]));
    expect(text(edit)).toEqual(["starter smells of acetone", "not dead, just hungry", "ABANDONED EDIT", "ABANDONED ANSWER"]);
    expect(edit[2]?.versions).toMatchObject({ anchor: 2, shown: 0 });
    expect(edit[2]?.branch).toBe(2);
    expect(edit[3]?.versions).toBeNull();

    const regenerated = shownMessages(current, alternatives, new Map([[1, 1]]));
    expect(text(regenerated)).toEqual(["starter smells of acetone", "OLD ANSWER"]);
  });

  it("ignores a choice of a branch that does not exist", () => {
    expect(text(shownMessages(current, alternatives, new Map([[1, 99]])))).toEqual(current.map((p) => p.content));
  });
});

describe("choicesFor", () => {
  it("opens the version a linked passage belongs to, nested ones too", () => {
    expect(choicesFor(alternatives[2]!.chunk_id, alternatives)).toEqual(new Map([[2, 2]]));
    expect(choicesFor(current[0]!.chunk_id, alternatives).size).toBe(0);
    const nested = [...alternatives, row(7, "NESTED", { alternative_of: 6, branch: 3, version: 1, versions: 2 })];
    expect(choicesFor(nested[3]!.chunk_id, nested)).toEqual(new Map([[6, 3], [2, 2]]));
  });
});
