import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const OWNED = /^(\d+)-[0-9a-f]{8}$/;
/** Files older layouts left loose in tmp/ (no owner recorded) are removed once they are this old. */
const LOOSE_MAX_AGE_MS = 60 * 60 * 1000;

/**
 * This process's scratch folder, `<state dir>/tmp/<pid>-<random>/`: uploads on their way into
 * the lake, Parquet being built, results being streamed, DuckDB's spill files. One folder per
 * process, so that a process starting up can remove what a dead one left behind (a `kill -9`
 * mid-ingest, an OOM kill mid-join) without touching the files of one that is still running.
 */
export class ScratchSpace {
  readonly root: string;
  readonly dir: string;

  constructor(stateDir: string) {
    this.root = join(stateDir, 'tmp');
    this.dir = join(this.root, `${process.pid}-${randomBytes(4).toString('hex')}`);
  }

  /**
   * Where DuckDB instance `name` spills (created by DuckDB when it first needs it, which creates
   * no parent folder: this process's folder is made here, since a server whose compute runs in
   * its worker may otherwise never have made it).
   */
  duckDbDir(name: string): string {
    mkdirSync(this.dir, { recursive: true });
    return join(this.dir, `duckdb-${name}`);
  }

  /**
   * Removes the folders of processes that are gone — and any of our own pid, which can only be
   * a previous life of this container's process 1 — and loose files older than an hour.
   * Returns the names removed.
   */
  sweep(): string[] {
    let entries: string[];
    try {
      entries = readdirSync(this.root);
    } catch {
      return [];
    }
    const removed: string[] = [];
    for (const name of entries) {
      const owner = OWNED.exec(name);
      const stale = owner ? !isAlive(Number(owner[1])) || Number(owner[1]) === process.pid : isOld(join(this.root, name));
      if (!stale) continue;
      rmSync(join(this.root, name), { recursive: true, force: true });
      removed.push(name);
    }
    return removed;
  }

  /** Deletes this process's folder (after its DuckDB instances are closed). */
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, but another user's
  }
}

function isOld(path: string): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs > LOOSE_MAX_AGE_MS;
  } catch {
    return false;
  }
}
