import { asDomainError, DomainError } from '../common/errors';

/** Plain-text table: a header row, then rows; columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

export function cell(value: unknown): string {
  if (value === null || value === undefined) return '∅';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(4);
  return String(value);
}

/** What the CLI prints for a failed command: the stable code and the message, nothing else. */
export function describeError(raw: unknown): string {
  const error = asDomainError(raw);
  if (error instanceof DomainError) return `error [${error.code}]: ${error.message}`;
  return `error: ${error instanceof Error ? error.message : String(error)}`;
}
