/** Passages are Markdown written by people and models: rendered through react-markdown
 * (which never runs HTML) and rehype-sanitize (GitHub's allow-list), with links limited to
 * http(s) and mailto. The search's words are marked by rehype plugins that split text
 * nodes, so highlighting never goes through HTML strings either. */
import type { Element, ElementContent, Root, Text } from "hast";
import { defaultSchema, type Options as SanitizeSchema } from "rehype-sanitize";
import { visitParents } from "unist-util-visit-parents";
import { answerSegments } from "./answer";
import { queryTerms } from "./highlight";
import { unescapeHtml } from "./snippet";

// Private-use characters stand for the API's <mark> and </mark> while the snippet is parsed
// as Markdown; any in the passage itself are dropped first.
export const MARK_OPEN = "\uE000";
export const MARK_CLOSE = "\uE001";
const SENTINELS = /[\uE000\uE001]/g;
const HAS_SENTINEL = /[\uE000\uE001]/;

const SAFE_PROTOCOLS = new Set(["http:", "https:", "mailto:"]);

/** A link's or image's address if it is absolute http(s) or mailto, else "" (removed). */
export function safeUrl(url: string): string {
  const cleaned = url.replace(SENTINELS, "").trim();
  try {
    return SAFE_PROTOCOLS.has(new URL(cleaned).protocol) ? cleaned : "";
  } catch {
    return ""; // relative or malformed: nowhere a passage's link could sensibly go
  }
}

// The API's snippet is up to two fragments of the passage (ts_headline) joined by this.
const FRAGMENT_DELIMITER = " … ";
const FENCE = /^ {0,3}(?:```|~~~)/gm;
const FENCE_LINE = /^ {0,3}(?:```|~~~)$/;
const fences = (text: string) => text.match(FENCE)?.length ?? 0;

/** A fragment cut from inside a fenced code block, fenced again, as it was in the passage:
 * else its code comments would show as headings and its code as prose. */
function fencedAsInPassage(fragment: string, content: string): string {
  const plain = fragment.replace(SENTINELS, "");
  let at = content.indexOf(plain);
  if (at < 0) at = content.indexOf(plain.split("\n", 1)[0]!);
  if (at < 0) return fragment;
  const opened = fences(content.slice(0, at)) % 2 === 1;
  // Cut just after a fence's backticks, the fragment's first word is the block's language.
  const fenceLine = content.slice(content.lastIndexOf("\n", at - 1) + 1, at);
  let text = fragment;
  if (opened && FENCE_LINE.test(fenceLine)) {
    const [language = "", ...code] = fragment.split("\n");
    text = [fenceLine.trim() + language.replace(SENTINELS, ""), ...code].join("\n");
  } else if (opened) {
    text = "```\n" + fragment;
  }
  return fences(text) % 2 === 1 ? text + "\n```" : text;
}

/** The API's snippet (escaped text, `<mark>` its only markup) as Markdown source with
 * sentinels where the marks were; with the passage's `content`, each fragment keeps the
 * code block it was cut from. */
export function snippetMarkdown(snippet: string, content?: string): string {
  const source = unescapeHtml(snippet.replace(SENTINELS, "").replace(/<mark>/g, MARK_OPEN).replace(/<\/mark>/g, MARK_CLOSE));
  if (content === undefined || !content.match(FENCE)) return source;
  const fragments = source.split(FRAGMENT_DELIMITER).map((f) => fencedAsInPassage(f, content));
  // A delimiter beside a code block would be read as part of it: on a line of its own there.
  return fragments.reduce((joined, f, i) => {
    const beside = fences(fragments[i - 1]!) > 0 || fences(f) > 0;
    return joined + (beside ? "\n\n…\n\n" : FRAGMENT_DELIMITER) + f;
  });
}

/** GitHub's sanitize schema, plus the `<mark>` our plugins add after it. */
export const SANITIZE_SCHEMA: SanitizeSchema = {
  ...defaultSchema,
  tagNames: [...(defaultSchema.tagNames ?? []), "mark"],
  protocols: { ...defaultSchema.protocols, href: ["http", "https", "mailto"], src: ["http", "https"] },
};

/** Raw HTML in a passage is shown as the text it is (people paste code), never parsed. */
export function rehypeRawAsText() {
  return (tree: Root) => {
    visitParents(tree, "raw", (node, ancestors) => {
      const parent = ancestors[ancestors.length - 1] as Root | Element | undefined;
      if (!parent) return;
      const index = parent.children.indexOf(node as ElementContent);
      parent.children[index] = { type: "text", value: (node as unknown as { value: string }).value };
    });
  };
}

function mark(value: string): Element {
  return { type: "element", tagName: "mark", properties: {}, children: [{ type: "text", value }] };
}

/** Replaces each text node (outside the `skip` elements, marks by default) by the nodes
 * `split` makes of it. */
function splitTexts(tree: Root, split: (text: string) => ElementContent[] | null, skip: readonly string[] = ["mark"]) {
  const targets: { node: Text; parent: Root | Element }[] = [];
  visitParents(tree, "text", (node, ancestors) => {
    const parent = ancestors[ancestors.length - 1] as Root | Element | undefined;
    if (parent && !ancestors.some((a) => a.type === "element" && skip.includes((a as Element).tagName))) {
      targets.push({ node, parent });
    }
  });
  for (const { node, parent } of targets) {
    const parts = split(node.value);
    if (!parts) continue;
    const index = parent.children.indexOf(node);
    parent.children.splice(index, 1, ...parts);
  }
}

/** Turns the snippet's sentinels into `<mark>`s; a mark may span several text nodes
 * (`**bold**` inside it), so whether one is open carries over in document order. */
export function rehypeSnippetMarks() {
  return (tree: Root) => {
    let open = false;
    splitTexts(tree, (value) => {
      if (!open && !HAS_SENTINEL.test(value)) return null;
      const parts: ElementContent[] = [];
      for (const piece of value.split(/([\uE000\uE001])/)) {
        if (piece === MARK_OPEN) open = true;
        else if (piece === MARK_CLOSE) open = false;
        else if (piece) parts.push(open ? mark(piece) : { type: "text", value: piece });
      }
      return parts;
    });
  };
}

/** Marks the query's words (as the keyword search matches them) in every text node. */
export function rehypeQueryMarks(options: { query: string }) {
  return (tree: Root) => {
    const pattern = queryTerms(options.query);
    if (!pattern) return;
    splitTexts(tree, (value) => {
      const parts: ElementContent[] = [];
      let last = 0;
      for (const match of value.matchAll(pattern)) {
        const start = match.index ?? 0;
        if (start > last) parts.push({ type: "text", value: value.slice(last, start) });
        parts.push(mark(match[0]));
        last = start + match[0].length;
      }
      if (last === 0) return null;
      if (last < value.length) parts.push({ type: "text", value: value.slice(last) });
      return parts;
    });
  };
}

/** Turns each "[n]" of a known passage into an `<a data-cite="n">` for the renderer to make
 * a citation link of; inside code it stays the text it is. Runs after the sanitizer, so
 * only this plugin can make such an element. */
export function rehypeCitations(options: { known: ReadonlySet<number> }) {
  return (tree: Root) => {
    splitTexts(
      tree,
      (value) => {
        const parts: ElementContent[] = [];
        for (const segment of answerSegments(value, options.known)) {
          parts.push(
            segment.kind === "cite"
              ? { type: "element", tagName: "a", properties: { dataCite: segment.n }, children: [{ type: "text", value: `[${segment.n}]` }] }
              : { type: "text", value: segment.text },
          );
        }
        return parts.some((p) => p.type === "element") ? parts : null;
      },
      ["code", "pre", "a"],
    );
  };
}
