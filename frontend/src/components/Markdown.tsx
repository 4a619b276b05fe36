import Markdown, { type Components, type Options } from "react-markdown";
import rehypeSanitize from "rehype-sanitize";
import remarkGfm from "remark-gfm";
import {
  rehypeQueryMarks,
  rehypeRawAsText,
  rehypeSnippetMarks,
  safeUrl,
  SANITIZE_SCHEMA,
  snippetMarkdown,
} from "../lib/markdown";

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
  // A passage's link opens beside the app, and the page it opens gets no handle on ours.
  a: ({ href, children }) =>
    href ? (
      <a href={href} target="_blank" rel="noopener noreferrer nofollow">
        {children}
      </a>
    ) : (
      <span>{children}</span>
    ),
  // Remote images would tell their host who reads the passage: their alt text stands in.
  img: ({ alt }) => <span className="image-alt">{alt ? `[image: ${alt}]` : "[image]"}</span>,
};

/** A passage's Markdown, the search's words marked: `query` marks them as the keyword
 * search finds them; `snippet` instead takes the API's snippet with its `<mark>`s. */
export function PassageMarkdown(props: { text: string; query?: string } | { snippet: string }) {
  const isSnippet = "snippet" in props;
  const source = isSnippet ? snippetMarkdown(props.snippet) : props.text;
  const marks: NonNullable<Options["rehypePlugins"]>[number] = isSnippet
    ? rehypeSnippetMarks
    : [rehypeQueryMarks, { query: props.query ?? "" }];
  return (
    <Markdown
      remarkPlugins={[remarkGfm]}
      rehypePlugins={[rehypeRawAsText, [rehypeSanitize, SANITIZE_SCHEMA], marks]}
      urlTransform={safeUrl}
      components={COMPONENTS}
    >
      {source}
    </Markdown>
  );
}
