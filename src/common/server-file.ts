import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ServerAlreadyRunningError } from './errors';

/**
 * A running `featurelake serve` holds its state folder (the DuckDB files, the scratch space)
 * through `server.json`, created exclusively at start-up: a second server on the same folder is
 * refused with the first one's address, and a CLI command that finds the files locked can say
 * which server holds them and how to reach it. Only the server that created the file removes it.
 */
export interface ServerInfo {
  pid: number;
  /** Null while the server is starting (not listening yet). */
  url: string | null;
  startedAt: string;
}

const FILE = 'server.json';

/**
 * Takes the state folder for this process, or throws SERVER_ALREADY_RUNNING naming the live
 * server that holds it. A file left by a server that died is taken over.
 */
export function claimServerFile(stateDir: string, info: ServerInfo): void {
  mkdirSync(stateDir, { recursive: true });
  const path = join(stateDir, FILE);
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      writeFileSync(path, JSON.stringify(info, null, 1), { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readInfo(path);
    if (holder && isLive(holder.pid)) throw alreadyRunning(stateDir, holder);
    takeOverStale(path);
  }
  throw new ServerAlreadyRunningError(`could not take ${join(stateDir, FILE)}: other servers keep starting on this state folder`);
}

/** Records the address once listening; only the owner's file is touched. */
export function updateServerFile(stateDir: string, info: ServerInfo): void {
  const path = join(stateDir, FILE);
  if (readInfo(path)?.pid !== info.pid) return;
  const temp = `${path}.${randomBytes(4).toString('hex')}`;
  writeFileSync(temp, JSON.stringify(info, null, 1));
  renameSync(temp, path);
}

export function removeServerFile(stateDir: string, pid: number): void {
  if (readInfo(join(stateDir, FILE))?.pid === pid) rmSync(join(stateDir, FILE), { force: true });
}

/** The running server's info, or null when there is none (or its process is gone). */
export function readServerFile(stateDir: string): ServerInfo | null {
  const info = readInfo(join(stateDir, FILE));
  return info && isLive(info.pid) ? info : null;
}

/**
 * Moves a dead server's file aside. Two processes may race to do so: what was moved is checked,
 * and a live server's file (created by a racer in between) is put back and refused.
 */
function takeOverStale(path: string): void {
  const aside = `${path}.stale-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // gone already: try to create it again
  }
  const moved = readInfo(aside);
  if (moved && isLive(moved.pid)) {
    try {
      linkSync(aside, path);
    } catch {
      // yet another server holds it now; the next attempt reads that one
    }
    unlinkSync(aside);
    throw alreadyRunning(path.slice(0, -FILE.length - 1), moved);
  }
  unlinkSync(aside);
}

function alreadyRunning(stateDir: string, holder: ServerInfo): ServerAlreadyRunningError {
  const where = holder.url ? `at ${holder.url}` : 'still starting';
  return new ServerAlreadyRunningError(
    `another featurelake server (pid ${holder.pid}, ${where}, since ${holder.startedAt}) holds the state folder ${stateDir}; stop it first, or give this server its own state folder (FEATURELAKE_STATE_DIR) and offline file`,
    { server: holder },
  );
}

function readInfo(path: string): ServerInfo | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ServerInfo;
  } catch {
    return null;
  }
}

/** A process other than this one that is running (a file with our own pid is a previous life's, in a container). */
function isLive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
