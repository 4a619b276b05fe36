import { describe, expect, it } from "vitest";
import { exportFileName, passwordProblem, passwordRule, recoveryToken } from "./account";

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

describe("passwordRule", () => {
  it("shows the 8-character rule before submitting, counting what is missing", () => {
    expect(passwordRule("")).toEqual({ met: false, text: "At least 8 characters." });
    expect(passwordRule("abcde")).toEqual({ met: false, text: "At least 8 characters: 3 more." });
    expect(passwordRule("abcdefgh").met).toBe(true);
    // Characters, not UTF-16 units: an emoji counts once.
    expect(passwordRule("😀😀😀😀😀😀😀").met).toBe(false);
  });
});

describe("recoveryToken", () => {
  it("reads the recovery link's token hash and nothing else", () => {
    expect(recoveryToken("?token_hash=abc&type=recovery")).toBe("abc");
    expect(recoveryToken("?token_hash=abc&type=signup")).toBeNull();
    expect(recoveryToken("?type=recovery")).toBeNull();
    expect(recoveryToken("")).toBeNull();
  });
});
