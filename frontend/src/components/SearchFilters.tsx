import type { FilterForm } from "../lib/filters";
import type { WorkspaceRow } from "../lib/rpc";
import { PLATFORMS, platformName } from "./PlatformIcon";

const ROLES = ["user", "assistant", "system", "tool", "speaker", "document"];

export function SearchFilters({
  value,
  onChange,
  workspaces,
}: {
  value: FilterForm;
  onChange: (next: FilterForm) => void;
  workspaces: WorkspaceRow[];
}) {
  const set = (key: keyof FilterForm) => (e: { target: { value: string } }) =>
    onChange({ ...value, [key]: e.target.value });
  return (
    <fieldset className="filters">
      <legend className="visually-hidden">Filters</legend>
      <label>
        Platform
        <select value={value.platform} onChange={set("platform")}>
          <option value="">Any</option>
          {PLATFORMS.map((p) => (
            <option key={p} value={p}>
              {platformName(p)}
            </option>
          ))}
        </select>
      </label>
      <label>
        Role
        <select value={value.role} onChange={set("role")}>
          <option value="">Any</option>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </label>
      <label>
        Versions
        <select value={value.versions} onChange={set("versions")}>
          <option value="">As last seen</option>
          <option value="all">With edits and regenerations</option>
        </select>
      </label>
      {workspaces.length > 1 && (
        <label>
          Workspace
          <select value={value.workspaceId} onChange={set("workspaceId")}>
            <option value="">All</option>
            {workspaces.map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
          </select>
        </label>
      )}
      <label>
        From
        <input type="date" value={value.dateFrom} onChange={set("dateFrom")} />
      </label>
      <label>
        To
        <input type="date" value={value.dateTo} onChange={set("dateTo")} />
      </label>
    </fieldset>
  );
}
