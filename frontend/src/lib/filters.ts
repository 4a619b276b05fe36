import type { components } from "./api.types";

/** The search page's filters, as the form holds them and as POST /v1/search wants them. */
export interface FilterForm {
  platform: string;
  role: string;
  workspaceId: string;
  dateFrom: string; // yyyy-mm-dd (local day) or ""
  dateTo: string;
  /** "all": other versions of messages (edits, regenerations) too; "": as last seen. */
  versions: string;
}

export const EMPTY_FILTERS: FilterForm = {
  platform: "",
  role: "",
  workspaceId: "",
  dateFrom: "",
  dateTo: "",
  versions: "",
};

/** The filters of POST /v1/search and /v1/ask. */
export type ApiFilters = components["schemas"]["SearchFilters"];

function localDay(day: string, endOfDay: boolean): Date | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return null;
  const [, y, m, d] = match.map(Number) as [number, number, number, number];
  const date = endOfDay
    ? new Date(y, m - 1, d, 23, 59, 59, 999)
    : new Date(y, m - 1, d, 0, 0, 0, 0);
  return Number.isNaN(date.getTime()) || date.getDate() !== d ? null : date;
}

/** Filters for the API: empty fields left out, local days turned into UTC instants that
 * cover the whole day, and a reversed range swapped. */
export function toApiFilters(form: FilterForm): ApiFilters {
  const filters: ApiFilters = {};
  if (form.platform) filters.platform = form.platform;
  if (form.role) filters.role = form.role;
  if (form.workspaceId) filters.workspace_id = form.workspaceId;
  let from = form.dateFrom ? localDay(form.dateFrom, false) : null;
  let to = form.dateTo ? localDay(form.dateTo, true) : null;
  if (from && to && from > to) {
    [from, to] = [localDay(form.dateTo, false), localDay(form.dateFrom, true)];
  }
  if (form.versions === "all") filters.include_alternatives = true;
  if (from) filters.date_from = from.toISOString();
  if (to) filters.date_to = to.toISOString();
  return filters;
}

export function activeFilterCount(form: FilterForm): number {
  return Object.values(form).filter((v) => v !== "").length;
}
