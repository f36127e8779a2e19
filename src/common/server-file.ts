import { readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A running `featurelake serve` leaves its address next to the DuckDB files it holds open, so a
 * CLI command that finds those files locked can say which server holds them and how to reach it.
 */
export interface ServerInfo {
  pid: number;
  url: string;
  startedAt: string;
}

const FILE = 'server.json';

export function writeServerFile(stateDir: string, info: ServerInfo): void {
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(join(stateDir, FILE), JSON.stringify(info, null, 1));
}

export function removeServerFile(stateDir: string, pid: number): void {
  if (readServerFile(stateDir)?.pid === pid) rmSync(join(stateDir, FILE), { force: true });
}

/** The running server's info, or null when there is none (or its process is gone). */
export function readServerFile(stateDir: string): ServerInfo | null {
  try {
    const info = JSON.parse(readFileSync(join(stateDir, FILE), 'utf8')) as ServerInfo;
    process.kill(info.pid, 0); // throws when no such process
    return info;
  } catch {
    return null;
  }
}
