export type ThemeChoice = "light" | "dark" | "system";
export type Theme = "light" | "dark";

const KEY = "knitter.theme";

export function isThemeChoice(value: unknown): value is ThemeChoice {
  return value === "light" || value === "dark" || value === "system";
}

export function resolveTheme(choice: ThemeChoice, prefersDark: boolean): Theme {
  if (choice === "system") return prefersDark ? "dark" : "light";
  return choice;
}

export function storedTheme(storage: Pick<Storage, "getItem"> = localStorage): ThemeChoice {
  const value = storage.getItem(KEY);
  return isThemeChoice(value) ? value : "system";
}

export function storeTheme(choice: ThemeChoice, storage: Pick<Storage, "setItem"> = localStorage): void {
  storage.setItem(KEY, choice);
}

export function applyTheme(choice: ThemeChoice): void {
  const dark = window.matchMedia?.("(prefers-color-scheme: dark)").matches ?? false;
  document.documentElement.dataset["theme"] = resolveTheme(choice, dark);
}
