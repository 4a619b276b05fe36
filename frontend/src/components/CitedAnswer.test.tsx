import { render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import type { Citation } from "../lib/api";
import { IDLE } from "../lib/answerStream";
import { AnswerPanel } from "./AnswerPanel";
import { CitedAnswerText } from "./CitedAnswer";

const citation = (n: number, title: string): Citation => ({
  n,
  chunk_id: 100 + n,
  source_id: `source-${n}`,
  source_title: title,
  platform: "chatgpt",
  url: null,
  role: "assistant",
  created_at: null,
  content: `Passage ${n} text.`,
});

describe("CitedAnswerText", () => {
  it("links each known [n] to its passage and leaves the rest as text", () => {
    render(
      <MemoryRouter>
        <CitedAnswerText answer={"Feed it [1]. Unknown [9]. <b>no</b>"} citations={[citation(1, "Sourdough")]} />
      </MemoryRouter>,
    );
    const link = screen.getByRole("link", { name: "Passage 1: Sourdough" });
    expect(link.getAttribute("href")).toBe("/sources/source-1?passage=101");
    expect(link.textContent).toBe("[1]");
    expect(screen.getByText(/Unknown \[9\]/)).toBeTruthy();
    expect(document.querySelector("b")).toBeNull();
  });

  it("renders the answer's Markdown, with citations in lists and bold but not in code", () => {
    render(
      <MemoryRouter>
        <CitedAnswerText
          answer={"From your notes:\n\n- Run `helm rollback [1]` first [1]\n- Then **check the pods** [2][1]"}
          citations={[citation(1, "Deploys"), citation(2, "Pods")]}
        />
      </MemoryRouter>,
    );
    const items = document.querySelectorAll(".answer-text li");
    expect(items).toHaveLength(2);
    expect(document.querySelector(".answer-text code")?.textContent).toBe("helm rollback [1]");
    expect(document.querySelector(".answer-text strong")?.textContent).toBe("check the pods");
    expect(screen.getAllByRole("link", { name: "Passage 1: Deploys" })).toHaveLength(2);
    expect(items[1]?.querySelectorAll("a.cite")).toHaveLength(2);
    expect(document.querySelector(".answer-text")?.textContent).not.toContain("**");
  });

  it("keeps a link's own text, and drops a script link's address", () => {
    render(
      <MemoryRouter>
        <CitedAnswerText answer={"See [the docs](https://example.com/a) and [this](javascript:alert(1)) [1]."} citations={[citation(1, "Docs")]} />
      </MemoryRouter>,
    );
    const docs = screen.getByRole("link", { name: "the docs" });
    expect(docs.getAttribute("href")).toBe("https://example.com/a");
    expect(docs.getAttribute("rel")).toContain("noopener");
    expect(screen.queryByRole("link", { name: "this" })).toBeNull();
    expect(screen.getByRole("link", { name: "Passage 1: Docs" }).getAttribute("href")).toBe("/sources/source-1?passage=101");
  });
});

describe("AnswerPanel", () => {
  it("labels an extractive answer and lists only the cited passages", () => {
    render(
      <MemoryRouter>
        <AnswerPanel
          state={{
            ...IDLE,
            status: "done",
            question: "How often?",
            citations: [citation(1, "Sourdough"), citation(2, "Bicycle gears")],
            text: "- Twice a day [2]",
            done: { cited: [2], extractive: true, provider: null, model: null },
          }}
          onClose={() => undefined}
        />
      </MemoryRouter>,
    );
    expect(screen.getByText("No language model was used")).toBeTruthy();
    const list = screen.getByRole("list", { name: "Cited passages" });
    expect(list.querySelectorAll("li")).toHaveLength(1);
    expect(list.textContent).toContain("Bicycle gears");
  });

  it("names the model otherwise", () => {
    render(
      <MemoryRouter>
        <AnswerPanel
          state={{
            ...IDLE,
            status: "done",
            question: "q",
            citations: [citation(1, "Sourdough")],
            text: "Yes [1].",
            done: { cited: [1], extractive: false, provider: "openai", model: "gpt-4o-mini" },
          }}
          onClose={() => undefined}
        />
      </MemoryRouter>,
    );
    expect(screen.getByText("Written by openai · gpt-4o-mini")).toBeTruthy();
    expect(screen.queryByText("No language model was used")).toBeNull();
  });
});
