import { activeFilterCount, EMPTY_FILTERS, toApiFilters } from "./filters";

describe("toApiFilters", () => {
  it("leaves empty fields out", () => {
    expect(toApiFilters(EMPTY_FILTERS)).toEqual({});
  });

  it("passes platform, role and workspace through", () => {
    expect(
      toApiFilters({ ...EMPTY_FILTERS, platform: "claude", role: "user", workspaceId: "w1" }),
    ).toEqual({ platform: "claude", role: "user", workspace_id: "w1" });
  });

  it("asks for other versions of messages only when chosen", () => {
    expect(toApiFilters({ ...EMPTY_FILTERS, versions: "all" })).toEqual({ include_alternatives: true });
    expect(toApiFilters({ ...EMPTY_FILTERS, versions: "" })).not.toHaveProperty("include_alternatives");
  });

  it("covers whole local days", () => {
    const filters = toApiFilters({ ...EMPTY_FILTERS, dateFrom: "2024-05-01", dateTo: "2024-05-31" });
    expect(new Date(filters.date_from as string).getTime()).toBe(new Date(2024, 4, 1).getTime());
    expect(new Date(filters.date_to as string).getTime()).toBe(
      new Date(2024, 4, 31, 23, 59, 59, 999).getTime(),
    );
  });

  it("swaps a reversed range", () => {
    const filters = toApiFilters({ ...EMPTY_FILTERS, dateFrom: "2024-06-10", dateTo: "2024-06-01" });
    expect(new Date(filters.date_from as string).getTime()).toBe(new Date(2024, 5, 1).getTime());
    expect(new Date(filters.date_to as string).getTime()).toBe(
      new Date(2024, 5, 10, 23, 59, 59, 999).getTime(),
    );
  });

  it("ignores impossible dates", () => {
    expect(toApiFilters({ ...EMPTY_FILTERS, dateFrom: "2024-02-31", dateTo: "soon" })).toEqual({});
  });

  it("counts active filters", () => {
    expect(activeFilterCount(EMPTY_FILTERS)).toBe(0);
    expect(activeFilterCount({ ...EMPTY_FILTERS, role: "user", dateTo: "2024-01-01" })).toBe(2);
  });
});
