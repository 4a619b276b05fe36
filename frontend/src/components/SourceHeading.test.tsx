import { render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { SourceHeading } from "./SourceHeading";

const base = {
  id: "s1",
  title: "Kiln firing schedule",
  platform: "claude",
  started_at: "2025-07-02T09:00:00Z",
  imported_at: "2025-07-03T09:00:00Z",
  passages: 4,
};

function heading(extra: Partial<Parameters<typeof SourceHeading>[0]["source"]>) {
  render(
    <MemoryRouter>
      <SourceHeading source={{ ...base, ...extra }} />
    </MemoryRouter>,
  );
}

describe("SourceHeading", () => {
  it("links a project's conversation to the project's sources", () => {
    heading({ project_id: "p-1", project: "Pottery studio", is_project: false });
    const link = screen.getByRole("link", { name: "Project: Pottery studio" });
    expect(link.getAttribute("href")).toBe("/sources?project=p-1");
  });

  it("names a custom GPT known only by its id, and shows nothing for a plain chat", () => {
    heading({ platform: "chatgpt", assistant: "g-uefFoRnpX", project_id: null });
    expect(screen.getByText(/Custom GPT: g-uefFoRnpX/)).toBeTruthy();
    expect(screen.queryByText(/Project:/)).toBeNull();
  });
});
