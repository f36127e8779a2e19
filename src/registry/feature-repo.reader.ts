import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROJECT_FILE, displayPath } from '../config/load-config';

export interface RepoFile {
  /** As shown in messages (relative to the working folder when inside it). */
  name: string;
  text: string;
}

/** Reads the definition files of a feature repo: every `*.yaml`/`*.yml` but the project file. */
export class FeatureRepoReader {
  constructor(private readonly repoDir: string) {}

  async read(): Promise<RepoFile[]> {
    const names = (await readdir(this.repoDir))
      .filter((n) => /\.ya?ml$/.test(n) && n !== PROJECT_FILE)
      .sort();
    return Promise.all(
      names.map(async (n) => ({ name: displayPath(join(this.repoDir, n)), text: await readFile(join(this.repoDir, n), 'utf8') })),
    );
  }
}
