import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
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
  const errno = error as NodeJS.ErrnoException;
  const code = errno?.code ? SYSTEM_CODES[errno.code] : undefined;
  if (code) return `error [${code.code}]: ${code.what}${errno.path ? `: ${errno.path}` : ''}`;
  // Anything else is ours to fix: still one stable code, so that scripts can tell it from the rest.
  return `error [INTERNAL_ERROR]: ${error instanceof Error ? error.message : String(error)}`;
}

/** System errors a command can meet on the user's files, by what the CLI reports for them. */
const SYSTEM_CODES: Record<string, { code: string; what: string }> = {
  ENOENT: { code: 'FILE_NOT_FOUND', what: 'no such file or folder' },
  ENOTDIR: { code: 'FILE_NOT_FOUND', what: 'a part of the path is not a folder' },
  EISDIR: { code: 'INVALID_FILE', what: 'a folder where a file was expected' },
  EACCES: { code: 'PERMISSION_DENIED', what: 'permission denied' },
  EPERM: { code: 'PERMISSION_DENIED', what: 'operation not permitted' },
  EEXIST: { code: 'FILE_EXISTS', what: 'the file exists already' },
};

/** The version line `featurelake --version` prints: this package, Node and DuckDB. */
export function versionLine(): string {
  const own = (require('../../package.json') as { version: string }).version;
  const duckdb = (require('@duckdb/node-api/package.json') as { version: string }).version;
  return `featurelake ${own} (Node ${process.version}, DuckDB ${duckdb.replace(/-.*$/, '')})`;
}

/** Makes the folder a file is about to be written into (`--output out/train.parquet`). */
export async function outputPath(file: string): Promise<string> {
  const path = resolve(file);
  await mkdir(dirname(path), { recursive: true });
  return path;
}
