import { Link } from "react-router-dom";
import { formatWhen, plural } from "../lib/format";
import type { SourceRow } from "../lib/rpc";
import { platformName } from "./PlatformIcon";

type SourceFacts = Pick<SourceRow, "id" | "title" | "platform" | "started_at" | "imported_at" | "passages">;

/** A source in a list: its title, linking to the conversation, over platform, date and size. */
export function SourceHeading({ source }: { source: SourceFacts }) {
  return (
    <>
      <Link to={`/sources/${source.id}`} className="result-title">
        {source.title}
      </Link>
      <p className="muted small">
        {platformName(source.platform)} · {formatWhen(source.started_at ?? source.imported_at)} ·{" "}
        {plural(source.passages, "passage")}
      </p>
    </>
  );
}
