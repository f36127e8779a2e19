/**
 * Byte sizes as people write them in config (`512MB`, `8GiB`, or a plain number of bytes).
 * KB/MB/GB/TB are powers of 1000 and KiB/MiB/GiB/TiB powers of 1024, as DuckDB reads them, so a
 * limit means the same here and in DuckDB's own messages.
 */
const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** The size in bytes, or null when the text is not a size. */
export function parseSize(text: string | number): number | null {
  if (typeof text === 'number') return Number.isFinite(text) && text > 0 ? Math.floor(text) : null;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!match) return null;
  const unit = UNITS[(match[2] || 'b').toLowerCase()];
  const bytes = unit === undefined ? NaN : Math.floor(Number(match[1]) * unit);
  return bytes > 0 ? bytes : null;
}

/** A size for messages: the largest binary unit that keeps a number of at least 1 (`1.5 GiB`). */
export function formatSize(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}
