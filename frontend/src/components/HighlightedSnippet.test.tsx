import { render } from "@testing-library/react";
import { HighlightedSnippet } from "./HighlightedSnippet";

describe("HighlightedSnippet", () => {
  it("renders marks as <mark> and everything else as text, never as HTML", () => {
    const { container } = render(
      <HighlightedSnippet snippet={"&lt;img src=x onerror=alert(1)&gt; <mark>derailleur</mark>"} />,
    );
    expect(container.querySelectorAll("mark")).toHaveLength(1);
    expect(container.querySelector("mark")?.textContent).toBe("derailleur");
    expect(container.querySelector("img")).toBeNull();
    expect(container.textContent).toBe("<img src=x onerror=alert(1)> derailleur");
  });
});
