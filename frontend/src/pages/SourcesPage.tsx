import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router-dom";
import { PlatformIcon } from "../components/PlatformIcon";
import { SourceHeading } from "../components/SourceHeading";
import { plural } from "../lib/format";
import { projectLabel } from "../lib/projects";
import { useSources } from "../lib/queries";
import { deleteSource, type SourceRow } from "../lib/rpc";

function SourceRowItem({ source }: { source: SourceRow }) {
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: () => deleteSource(source.id),
    onSuccess: async (deleted) => {
      if (!deleted) throw new Error("You cannot delete this source.");
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: ["sources"] }),
        queryClient.invalidateQueries({ queryKey: ["search"] }),
        queryClient.invalidateQueries({ queryKey: ["passages"] }),
      ]);
    },
  });
  return (
    <li className="source-row card">
      <PlatformIcon platform={source.platform} />
      <div className="source-main">
        <SourceHeading source={source} />
        {remove.isError && (
          <p role="alert" className="error small">
            {remove.error.message}
          </p>
        )}
      </div>
      <button
        type="button"
        className="danger"
        aria-label={`Delete ${source.title}`}
        disabled={remove.isPending}
        onClick={() => {
          if (window.confirm(`Delete “${source.title}” and its ${plural(source.passages, "passage")}?`)) {
            remove.mutate();
          }
        }}
      >
        {remove.isPending ? "Deleting…" : "Delete"}
      </button>
    </li>
  );
}

export function SourcesPage() {
  const [params] = useSearchParams();
  const projectId = params.get("project") || undefined;
  const sources = useSources(projectId);
  const project = sources.data?.find((s) => s.project_id === projectId);
  return (
    <section aria-labelledby="sources-title">
      <h1 id="sources-title">Sources</h1>
      {projectId && (
        <p className="muted">
          In project “{(project && projectLabel(project)) ?? projectId}” ·{" "}
          <Link to="/sources">Show all sources</Link>
        </p>
      )}
      {sources.isPending && <p aria-busy="true">Loading…</p>}
      {sources.isError && <p role="alert" className="error">{sources.error.message}</p>}
      {sources.data?.length === 0 && projectId && <p className="empty">No sources in this project.</p>}
      {sources.data?.length === 0 && !projectId && <p className="empty">Nothing imported yet. Use “Import” to add an export, a link or notes.</p>}
      <ul className="sources" aria-label="Imported sources">
        {sources.data?.map((source) => <SourceRowItem key={source.id} source={source} />)}
      </ul>
    </section>
  );
}
