import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import type { MicroThread } from "../lib/api";
import { PassageThreads } from "./PassageThreads";

const stored: MicroThread[] = [];
const api = vi.hoisted(() => ({
  passageThreads: vi.fn(),
  askAboutPassage: vi.fn(),
  deleteMicroThread: vi.fn(),
}));

vi.mock("../auth", () => ({ useSession: () => ({ user: { id: "user-1" } }) }));
vi.mock("../lib/api", () => api);

function thread(question: string): MicroThread {
  return {
    id: `t-${stored.length}`,
    chunk_id: 7,
    workspace_id: "w",
    user_id: "user-1",
    question,
    answer: "Feed it twice a day [1].",
    model: "extractive",
    citations: [
      {
        n: 1,
        chunk_id: 7,
        source_id: "s",
        source_title: "Sourdough",
        platform: "chatgpt",
        url: null,
        role: "assistant",
        created_at: null,
        content: "Feed it twice a day.",
      },
    ],
    created_at: "2026-11-26T00:00:00Z",
  };
}

describe("PassageThreads", () => {
  it("lists a passage's questions and adds a new one", async () => {
    api.passageThreads.mockImplementation(async () => [...stored]);
    api.askAboutPassage.mockImplementation(async (_chunk: number, question: string) => {
      const created = thread(question);
      stored.push(created);
      return created;
    });
    render(
      <QueryClientProvider client={new QueryClient()}>
        <MemoryRouter>
          <PassageThreads chunkId={7} />
        </MemoryRouter>
      </QueryClientProvider>,
    );
    fireEvent.click(screen.getByRole("button", { name: "Ask about this passage" }));
    const panel = screen.getByRole("region", { name: "Questions about this passage" });
    fireEvent.change(within(panel).getByLabelText("Your question about this passage"), {
      target: { value: "How often?" },
    });
    fireEvent.click(within(panel).getByRole("button", { name: "Ask" }));
    const asked = await within(panel).findByRole("list", { name: "Questions asked" });
    expect(api.askAboutPassage).toHaveBeenCalledWith(7, "How often?");
    expect(asked.textContent).toContain("How often?");
    expect(within(asked).getByText("No language model was used")).toBeTruthy();
    expect(within(asked).getByRole("link", { name: "Passage 1: Sourdough" }).getAttribute("href")).toBe(
      "/sources/s?passage=7",
    );
    await waitFor(() =>
      expect((within(panel).getByLabelText("Your question about this passage") as HTMLTextAreaElement).value).toBe(""),
    );
  });

  it("offers Delete on the asker's own questions only and removes one", async () => {
    stored.length = 0;
    stored.push(thread("Mine?"));
    stored.push({ ...thread("Theirs?"), id: "t-other", user_id: "user-2" });
    api.passageThreads.mockImplementation(async () => [...stored]);
    api.deleteMicroThread.mockImplementation(async (_chunk: number, id: string) => {
      stored.splice(
        stored.findIndex((t) => t.id === id),
        1,
      );
    });
    render(
      <QueryClientProvider client={new QueryClient()}>
        <MemoryRouter>
          <PassageThreads chunkId={7} />
        </MemoryRouter>
      </QueryClientProvider>,
    );
    fireEvent.click(screen.getByRole("button", { name: "Ask about this passage" }));
    const asked = await screen.findByRole("list", { name: "Questions asked" });
    const deletes = within(asked).getAllByRole("button", { name: /^Delete the question/ });
    expect(deletes).toHaveLength(1);
    expect(deletes[0]!.getAttribute("aria-label")).toContain("Mine?");
    fireEvent.click(deletes[0]!);
    await waitFor(() => expect(screen.getByRole("list", { name: "Questions asked" }).textContent).not.toContain("Mine?"));
    expect(api.deleteMicroThread).toHaveBeenCalledWith(7, "t-0");
    expect(screen.getByRole("list", { name: "Questions asked" }).textContent).toContain("Theirs?");
  });
});
