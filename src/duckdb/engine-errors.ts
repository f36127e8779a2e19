import { DomainError, MemoryLimitExceededError, StorageFullError, TempLimitExceededError } from '../common/errors';
import { formatSize } from '../common/size';
import { stopReason } from '../common/work-control';

const OUT_OF_MEMORY = /Out of Memory Error/i;
const TEMP_LIMIT = /max_temp_directory_size/;
const NO_SPACE = /No space left on device|ENOSPC/i;
const INTERRUPTED = /INTERRUPT Error|Interrupted!/i;

export interface EngineLimits {
  /** The instance's name, as in `duckdb.memory_limit` shares (config-limits.ts). */
  name: string;
  memoryLimitBytes: number;
  tempLimitBytes: number;
  /** Threads for the instance's statements (absent: one per core, DuckDB's default). */
  threads?: number;
}

/**
 * Errors about the engine's resources rather than the query (memory, spill space, disk, an
 * interrupt): callers that turn query errors into their own codes pass these through, so that
 * DuckDbDatabase can name the limit that was hit.
 */
export function isEngineResourceError(error: unknown): boolean {
  const message = messageOf(error);
  return OUT_OF_MEMORY.test(message) || NO_SPACE.test(message) || INTERRUPTED.test(message);
}

/** The DomainError for an engine error, naming the limit; other errors come back unchanged. */
export function engineError(error: unknown, limits: EngineLimits, signal?: AbortSignal): unknown {
  const stopped = stopReason(signal);
  if (stopped) return stopped;
  if (error instanceof DomainError) return error;
  const message = messageOf(error);
  const detail = message.split('\n')[0];
  if (TEMP_LIMIT.test(message)) {
    return new TempLimitExceededError(
      `the query needs more spill space than DuckDB instance "${limits.name}" may use (${formatSize(limits.tempLimitBytes)}, its share of duckdb.temp_limit): ${detail}`,
      { limit: 'duckdb.temp_limit', max: limits.tempLimitBytes, instance: limits.name },
    );
  }
  if (NO_SPACE.test(message)) {
    const path = /"([^"]+)"/.exec(message)?.[1];
    return new StorageFullError(`no space left on the device${path ? ` writing ${path}` : ''}; free disk space and try again: ${detail}`, { path });
  }
  if (OUT_OF_MEMORY.test(message)) {
    return new MemoryLimitExceededError(
      `the query needs more memory than DuckDB instance "${limits.name}" may use (${formatSize(limits.memoryLimitBytes)}, its share of duckdb.memory_limit): ${detail}`,
      { limit: 'duckdb.memory_limit', max: limits.memoryLimitBytes, instance: limits.name },
    );
  }
  return error;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
