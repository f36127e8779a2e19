import { randomUUID } from 'node:crypto';
import { constants, createReadStream, existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import { access, copyFile, link, mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { asDomainError, ObjectNotFoundError } from '../common/errors';
import { assertSafeKey, ObjectStore } from './object-store';

const TEMP_MARK = '.tmp-';

/** A failed write leaves nothing behind (a full disk would otherwise leave empty temp files), and fails as itself or STORAGE_FULL. */
function removing(temp: string): (error: unknown) => Promise<never> {
  return async (error) => {
    await unlink(temp).catch(() => undefined);
    throw asDomainError(error);
  };
}

/** The lake in a local folder: the embedded default. Atomicity comes from rename(2) and link(2). */
export class LocalObjectStore extends ObjectStore {
  readonly location: string;

  constructor(private readonly rootDir: string) {
    super();
    this.location = pathToFileURL(rootDir).href;
  }

  async put(key: string, body: Buffer | string): Promise<void> {
    const temp = await this.writeTemp(key, body);
    await rename(temp, this.path(key)).catch(removing(temp));
  }

  async putFile(key: string, path: string): Promise<void> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    const temp = `${target}${TEMP_MARK}${randomUUID()}`;
    await copyFile(path, temp).catch(removing(temp));
    await rename(temp, target).catch(removing(temp));
  }

  async putIfAbsent(key: string, body: Buffer | string): Promise<boolean> {
    const temp = await this.writeTemp(key, body);
    try {
      await link(temp, this.path(key)); // fails with EEXIST when another writer got there first
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      return await readFile(this.path(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async read(key: string): Promise<Readable> {
    const path = this.path(key);
    try {
      await access(path, constants.R_OK);
    } catch {
      throw new ObjectNotFoundError(`the lake holds no object ${key}`, { key });
    }
    return createReadStream(path);
  }

  async list(prefix: string): Promise<string[]> {
    const base = this.path(prefix.replace(/\/+$/, '') || '.');
    const keys: string[] = [];
    await this.walk(base, keys);
    return keys.sort();
  }

  async listModified(prefix: string): Promise<{ key: string; modifiedMs: number }[]> {
    const keys = await this.list(prefix);
    // Whole milliseconds, as S3 gives them (and as Date.now() compares): an object written in this millisecond is not "newer than now".
    const items = await Promise.all(keys.map(async (key) => ({ key, modifiedMs: floorOrNull((await stat(this.path(key)).catch(() => null))?.mtimeMs) })));
    // A file deleted between the listing and its stat is gone: not listed.
    return items.filter((i): i is { key: string; modifiedMs: number } => i.modifiedMs !== null);
  }

  async listFolders(prefix: string): Promise<string[]> {
    try {
      const entries = await readdir(this.path(prefix.replace(/\/+$/, '')), { withFileTypes: true });
      return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  async delete(keys: string[]): Promise<void> {
    await Promise.all(keys.map((key) => unlink(this.path(key)).catch(() => undefined)));
  }

  async localPath(key: string): Promise<string> {
    return this.path(key);
  }

  async size(key: string): Promise<number | null> {
    try {
      return (await stat(this.path(key))).size;
    } catch {
      return null;
    }
  }

  async ping(): Promise<void> {
    // A lake folder not created yet is fine (the first write creates it); an unreadable place is not.
    await access(existsSync(this.rootDir) ? this.rootDir : dirname(this.rootDir), constants.R_OK | constants.W_OK);
  }

  private path(key: string): string {
    if (key !== '.') assertSafeKey(key);
    return join(this.rootDir, ...key.split('/'));
  }

  private async writeTemp(key: string, body: Buffer | string): Promise<string> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    const temp = `${target}${TEMP_MARK}${randomUUID()}`;
    await writeFile(temp, body).catch(removing(temp));
    return temp;
  }

  private async walk(dir: string, keys: string[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await this.walk(full, keys);
      else if (!entry.name.includes(TEMP_MARK)) keys.push(relative(this.rootDir, full).split(sep).join('/'));
    }
  }
}

function floorOrNull(ms: number | undefined): number | null {
  return ms === undefined ? null : Math.floor(ms);
}
