import { describe, expect, it } from "vitest";
import { exportFileName, passwordProblem } from "./account";

describe("passwordProblem", () => {
  it("asks for 8 characters and the same password twice", () => {
    expect(passwordProblem("short", "short")).toBe("At least 8 characters.");
    expect(passwordProblem("long enough", "long enougH")).toBe("The two passwords differ.");
    expect(passwordProblem("long enough", "long enough")).toBeNull();
  });
});

describe("exportFileName", () => {
  it("names the zip by the day", () => {
    expect(exportFileName(new Date("2026-12-01T22:00:00Z"))).toBe("knitter-export-2026-12-01.zip");
  });
});
