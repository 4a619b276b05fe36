import { Link } from "react-router-dom";
import { formatWhen, plural } from "../lib/format";
import { assistantLabel, projectLabel, projectLink } from "../lib/projects";
import type { SourceRow } from "../lib/rpc";
import { platformName } from "./PlatformIcon";

type SourceFacts = Pick<SourceRow, "id" | "title" | "platform" | "started_at" | "imported_at" | "passages"> &
  Partial<Pick<SourceRow, "project_id" | "project" | "is_project" | "assistant">>;

/** The project a source belongs to (or is), linking to that project's sources. */
export function ProjectLink({ source }: { source: Omit<SourceFacts, "id" | "title" | "started_at" | "imported_at" | "passages"> }) {
  const label = projectLabel(source);
  if (!source.project_id || !label) return null;
  return (
    <Link to={projectLink(source.project_id)} className="project-link">
      {source.is_project ? `Project: ${label} (its sources)` : `Project: ${label}`}
    </Link>
  );
}

/** A source in a list: its title, linking to the conversation, over platform, date and size. */
export function SourceHeading({ source }: { source: SourceFacts }) {
  const assistant = assistantLabel(source.platform, source.assistant);
  return (
    <>
      <Link to={`/sources/${source.id}`} className="result-title">
        {source.title}
      </Link>
      <p className="muted small">
        {platformName(source.platform)} · {formatWhen(source.started_at ?? source.imported_at)} ·{" "}
        {plural(source.passages, "passage")}
        {assistant && ` · ${assistant}`}
        {source.project_id && (
          <>
            {" · "}
            <ProjectLink source={source} />
          </>
        )}
      </p>
    </>
  );
}
