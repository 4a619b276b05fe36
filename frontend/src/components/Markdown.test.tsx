import { render } from "@testing-library/react";
import { HighlightedSnippet } from "./HighlightedSnippet";
import { PassageMarkdown } from "./Markdown";

function passage(text: string, query = "") {
  return render(<PassageMarkdown text={text} query={query} />).container;
}

describe("PassageMarkdown", () => {
  it("renders code blocks, lists and http(s)/mailto links that open safely", () => {
    const view = passage(
      "Steps:\n\n1. feed the **starter**\n2. wait\n\n```python\nprint('hi')\n```\n\n" +
        "[docs](https://example.com/a) and [mail](mailto:me@example.com)",
    );
    expect(view.querySelectorAll("ol > li")).toHaveLength(2);
    expect(view.querySelector("strong")?.textContent).toBe("starter");
    expect(view.querySelector("pre > code.language-python")?.textContent).toBe("print('hi')\n");
    const links = [...view.querySelectorAll("a")];
    expect(links.map((a) => a.getAttribute("href"))).toEqual(["https://example.com/a", "mailto:me@example.com"]);
    for (const a of links) {
      expect(a.getAttribute("rel")).toContain("noopener");
      expect(a.getAttribute("target")).toBe("_blank");
    }
  });

  it("never runs raw HTML: <script>, <img onerror> and inline handlers stay text", () => {
    const view = passage(
      '<script>window.hacked = 1</script>\n\nhi <img src=x onerror="window.hacked=2"> ' +
        '<a href="https://x.test" onclick="window.hacked=3">x</a>\n\n<div onmouseover="x()">d</div>',
    );
    expect(view.querySelector("script")).toBeNull();
    expect(view.querySelector("img")).toBeNull();
    expect(view.querySelector("[onerror], [onclick], [onmouseover]")).toBeNull();
    expect(view.querySelector("div")).toBeNull();
    // Shown as what it is: people paste HTML into their chats.
    expect(view.textContent).toContain("<script>window.hacked = 1</script>");
    expect(view.textContent).toContain('<img src=x onerror="window.hacked=2">');
    expect((window as unknown as { hacked?: number }).hacked).toBeUndefined();
  });

  it("drops javascript:, data: and relative link targets and never loads images", () => {
    const view = passage(
      "[a](javascript:alert(1)) [b](JaVaScRiPt:alert(1)) [c](data:text/html,<b>x</b>) [d](/etc/passwd) " +
        "[e](vbscript:msgbox) ![pic](https://tracker.example/p.png) <javascript:alert(2)>",
    );
    for (const a of view.querySelectorAll("a")) {
      const href = a.getAttribute("href") ?? "";
      expect(href === "" || /^(https?|mailto):/.test(href)).toBe(true);
    }
    expect(view.querySelectorAll("a[href]")).toHaveLength(0);
    expect(view.querySelector("img")).toBeNull();
    expect(view.textContent).toContain("[image: pic]");
    expect(view.textContent).toContain("a b c d e");
  });

  it("marks the query's words in text, lists and code, not inside link targets", () => {
    const view = passage("Feed the *starter* daily.\n\n- starters need flour\n\n`starter.py` [starter](https://s.test/starter)", "starter");
    const marks = [...view.querySelectorAll("mark")].map((m) => m.textContent);
    expect(marks).toEqual(["starter", "starters", "starter", "starter"]);
    expect(view.querySelector("em > mark")?.textContent).toBe("starter");
    expect(view.querySelector("code > mark")).not.toBeNull();
    expect(view.querySelector("a")?.getAttribute("href")).toBe("https://s.test/starter");
  });

  it("without a query marks nothing", () => {
    expect(passage("the starter", "").querySelectorAll("mark")).toHaveLength(0);
  });
});

describe("HighlightedSnippet", () => {
  it("keeps the API's marks while rendering the snippet's Markdown", () => {
    const { container } = render(
      <HighlightedSnippet snippet={"Use **<mark>derailleur</mark> hanger** and:\n\n- <mark>chain</mark> wear"} />,
    );
    expect([...container.querySelectorAll("mark")].map((m) => m.textContent)).toEqual(["derailleur", "chain"]);
    expect(container.querySelector("strong")?.textContent).toBe("derailleur hanger");
    expect(container.querySelector("strong > mark")).not.toBeNull();
    expect(container.querySelector("li > mark")?.textContent).toBe("chain");
  });

  it("a mark spanning emphasis stays one highlighted run", () => {
    const { container } = render(<HighlightedSnippet snippet={"<mark>the *big* one</mark> after"} />);
    expect([...container.querySelectorAll("mark")].map((m) => m.textContent).join("")).toBe("the big one");
    expect(container.textContent).toBe("the big one after");
  });

  it("escaped HTML in a snippet never becomes markup, and its links are filtered", () => {
    const { container } = render(
      <HighlightedSnippet
        snippet={"&lt;img src=x onerror=alert(1)&gt; <mark>derailleur</mark> [x](javascript:alert(1)) &lt;script&gt;alert(1)&lt;/script&gt;"}
      />,
    );
    expect(container.querySelector("img, script")).toBeNull();
    expect(container.querySelector("a[href]")).toBeNull();
    expect(container.querySelector("mark")?.textContent).toBe("derailleur");
    expect(container.textContent).toContain("<img src=x onerror=alert(1)> derailleur");
    expect(container.textContent).toContain("<script>alert(1)</script>");
  });

  it("sentinel characters typed into a passage do not fake marks", () => {
    const { container } = render(<HighlightedSnippet snippet={"a\uE000b\uE001c <mark>d</mark>"} />);
    expect([...container.querySelectorAll("mark")].map((m) => m.textContent)).toEqual(["d"]);
    expect(container.textContent).toBe("abc d");
  });
});

describe("a snippet cut from a code block", () => {
  // The passage and the snippet PostgreSQL's ts_headline made of it for "plot run".
  const content =
    "Here is the code:\n\n```python\n# Initialize plot\nplt.figure(figsize=(10, 6))\nfor run in range(5):\n    avg = []\n# Plot each run\nplt.plot(x)\n```\n\nThat plots it.";
  const snippet =
    "<mark>plot</mark>\nplt.figure(figsize=(10, 6))\nfor <mark>run</mark> … <mark>Plot</mark> each <mark>run</mark>\nplt.plot(x)\n```\n\nThat <mark>plots</mark>";

  it("is code, as in the passage, its words still marked", () => {
    const { container } = render(<HighlightedSnippet snippet={snippet} content={content} />);
    const code = [...container.querySelectorAll("pre code")].map((c) => c.textContent);
    expect(code).toEqual(["plot\nplt.figure(figsize=(10, 6))\nfor run\n", "Plot each run\nplt.plot(x)\n"]);
    expect(container.querySelector(".md-heading")).toBeNull(); // "# Plot each run" is a comment
    expect([...container.querySelectorAll("pre mark")].map((m) => m.textContent)).toEqual(["plot", "run", "Plot", "run"]);
    expect(container.querySelector("p:last-child")?.textContent).toBe("That plots");
  });

  it("cut just after the backticks, takes its first word as the block's language", () => {
    const passage = "Run this:\n\n```python\nprint('knitted')\n```\n\nDone.";
    const { container } = render(
      <HighlightedSnippet snippet={"<mark>python</mark>\nprint('knitted')\n```\n\nDone."} content={passage} />,
    );
    const code = container.querySelectorAll("pre code");
    expect([...code].map((c) => c.textContent)).toEqual(["print('knitted')\n"]);
    expect(code[0]?.className).toBe("language-python");
    expect(container.querySelector("p")?.textContent).toBe("Done.");
  });

  it("is prose without the passage, as before", () => {
    const { container } = render(<HighlightedSnippet snippet={snippet} />);
    expect(container.querySelectorAll("pre")).toHaveLength(1); // the stray closing fence opens one
  });
});

describe("passage headings", () => {
  it("are bold lines, not headings of the page", () => {
    const view = render(<PassageMarkdown text={"# Title\n\n## Sub"} />).container;
    expect(view.querySelector("h1, h2")).toBeNull();
    expect([...view.querySelectorAll("p.md-heading strong")].map((n) => n.textContent)).toEqual(["Title", "Sub"]);
  });
});
