import { assistantLabel, assistantUrl, projectLabel, projectLink } from "./projects";

describe("project and assistant labels", () => {
  it("names a project by its name, else by its shortened id", () => {
    expect(projectLabel({ platform: "claude", project_id: "p1", project: "Pottery studio" })).toBe("Pottery studio");
    expect(projectLabel({ platform: "chatgpt", project_id: "g-p-685bb57d8cec8191985f702d1b8f32dd" })).toBe(
      "ChatGPT project g-p-685bb57d…",
    );
    expect(projectLabel({ platform: "claude", project_id: "7a0b0c0d-0000-4000-8000-00000000p001", project: " " })).toBe(
      "Unnamed project 7a0b0c0d…",
    );
    expect(projectLabel({ platform: "claude", project_id: null, project: "x" })).toBeNull();
  });

  it("shows a custom GPT's id readably with a link, a Gem by name", () => {
    expect(assistantLabel("chatgpt", "g-uefFoRnpX")).toBe("Custom GPT: g-uefFoRnpX");
    expect(assistantLabel("chatgpt", "g-abcdefghijklmnop")).toBe("Custom GPT: g-abcdefgh…");
    expect(assistantLabel("chatgpt", "Code Copilot")).toBe("Custom GPT: Code Copilot");
    expect(assistantUrl("chatgpt", "g-uefFoRnpX")).toBe("https://chatgpt.com/g/g-uefFoRnpX");
    expect(assistantUrl("chatgpt", "Code Copilot")).toBeNull();
    expect(assistantLabel("gemini", "Sourdough Coach")).toBe("Gem: Sourdough Coach");
    expect(assistantLabel("claude", null)).toBeNull();
  });

  it("links to the source list filtered by project", () => {
    expect(projectLink("g-p-1 &x")).toBe("/sources?project=g-p-1%20%26x");
  });
});
