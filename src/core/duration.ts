const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
const DURATION = /^(\d+)\s*([smhdw])$/;

/**
 * Parses a duration such as `90s`, `15m`, `2d` or `1w` into whole seconds.
 * Returns null when the text is not a duration, so callers can name the offending field.
 */
export function parseDurationSeconds(text: string): number | null {
  const match = DURATION.exec(text.trim());
  if (!match) return null;
  const seconds = Number(match[1]) * UNIT_SECONDS[match[2]];
  return Number.isSafeInteger(seconds) ? seconds : null;
}

/** Formats seconds with the largest unit that divides them exactly (`172800` → `2d`). */
export function formatDuration(seconds: number): string {
  for (const unit of ['w', 'd', 'h', 'm']) {
    if (seconds > 0 && seconds % UNIT_SECONDS[unit] === 0) return `${seconds / UNIT_SECONDS[unit]}${unit}`;
  }
  return `${seconds}s`;
}
