import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Files under a folder, recursively (the scratch space: what a request has left on disk). */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Waits until the scratch space is empty (a streamed file is deleted once its stream has closed), then returns what is left. */
export async function settledScratch(dir: string): Promise<string[]> {
  for (let i = 0; i < 250 && filesUnder(dir).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  return filesUnder(dir);
}
