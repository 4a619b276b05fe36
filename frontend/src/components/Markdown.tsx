import { type ReactNode, useMemo } from "react";
import Markdown, { type Components, type Options } from "react-markdown";
import rehypeSanitize from "rehype-sanitize";
import remarkGfm from "remark-gfm";
import {
  rehypeCitations,
  rehypeQueryMarks,
  rehypeRawAsText,
  rehypeSnippetMarks,
  safeUrl,
  SANITIZE_SCHEMA,
  snippetMarkdown,
} from "../lib/markdown";

// A passage's link opens beside the app, and the page it opens gets no handle on ours.
function ExternalLink({ href, children }: { href?: string; children?: ReactNode }) {
  return href ? (
    <a href={href} target="_blank" rel="noopener noreferrer nofollow">
      {children}
    </a>
  ) : (
    <span>{children}</span>
  );
}

// A passage's headings are not the page's: shown as bold lines, out of the outline.
const heading: Components["h1"] = ({ children }) => (
  <p className="md-heading">
    <strong>{children}</strong>
  </p>
);

const COMPONENTS: Components = {
  h1: heading,
  h2: heading,
  h3: heading,
  h4: heading,
  h5: heading,
  h6: heading,
  a: ExternalLink,
  // Remote images would tell their host who reads the passage: their alt text stands in.
  img: ({ alt }) => <span className="image-alt">{alt ? `[image: ${alt}]` : "[image]"}</span>,
};

type RehypePlugin = NonNullable<Options["rehypePlugins"]>[number];

/** Markdown as people and models write it, never its HTML; `after` runs on the sanitized
 * tree (the only place our own elements are added). */
function SafeMarkdown({ source, after, components }: { source: string; after: RehypePlugin; components: Components }) {
  return (
    <Markdown
      remarkPlugins={[remarkGfm]}
      rehypePlugins={[rehypeRawAsText, [rehypeSanitize, SANITIZE_SCHEMA], after]}
      urlTransform={safeUrl}
      components={components}
    >
      {source}
    </Markdown>
  );
}

/** A passage's Markdown, the search's words marked: `query` marks them as the keyword
 * search finds them; `snippet` instead takes the API's snippet with its `<mark>`s (and
 * `content`, the passage it was cut from). */
export function PassageMarkdown(props: { text: string; query?: string } | { snippet: string; content?: string }) {
  const isSnippet = "snippet" in props;
  const source = isSnippet ? snippetMarkdown(props.snippet, props.content) : props.text;
  const marks: RehypePlugin = isSnippet ? rehypeSnippetMarks : [rehypeQueryMarks, { query: props.query ?? "" }];
  return <SafeMarkdown source={source} after={marks} components={COMPONENTS} />;
}

/** An answer's Markdown, each "[n]" of a known passage drawn by `cite` (a link to it). */
export function AnswerMarkdown({
  text,
  known,
  cite,
}: {
  text: string;
  known: ReadonlySet<number>;
  cite: (n: number) => ReactNode;
}) {
  const components = useMemo<Components>(
    () => ({
      ...COMPONENTS,
      a: (props) => {
        const n = (props as { "data-cite"?: number | string })["data-cite"];
        return n === undefined ? <ExternalLink {...props} /> : cite(Number(n));
      },
    }),
    [cite],
  );
  return <SafeMarkdown source={text} after={[rehypeCitations, { known }]} components={components} />;
}
