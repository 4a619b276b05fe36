const LABELS: Record<string, { name: string; glyph: string }> = {
  chatgpt: { name: "ChatGPT", glyph: "G" },
  claude: { name: "Claude", glyph: "C" },
  gemini: { name: "Gemini", glyph: "✦" },
  youtube: { name: "YouTube", glyph: "▶" },
  web: { name: "Web page", glyph: "W" },
  notes: { name: "Notes", glyph: "N" },
  pdf: { name: "PDF", glyph: "P" },
};

export function platformName(platform: string): string {
  return LABELS[platform]?.name ?? platform;
}

export const PLATFORMS = Object.keys(LABELS);

export function PlatformIcon({ platform }: { platform: string }) {
  const label = LABELS[platform] ?? { name: platform, glyph: platform.slice(0, 1).toUpperCase() };
  return (
    <span className={`platform-icon platform-${platform}`} role="img" aria-label={label.name} title={label.name}>
      {label.glyph}
    </span>
  );
}
