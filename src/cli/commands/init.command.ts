import { Command } from 'commander';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { FileExistsError, ValidationFailedError } from '../../common/errors';
import { isIdentifier } from '../../core/identifiers';
import { scaffold } from '../scaffold';

export function initCommand(program: Command): void {
  program
    .command('init')
    .description('create a working feature repo: project config, definitions and a week of sample data')
    .argument('[dir]', 'the folder to create (its name is the project name unless --project)', 'feature-repo')
    .option('--project <name>', 'the project name (letters, digits, _)')
    .action(async (dir: string, options: { project?: string }) => {
      const path = resolve(dir);
      const project = options.project ?? basename(path).replace(/-/g, '_');
      if (!isIdentifier(project)) {
        throw new ValidationFailedError(`project ${JSON.stringify(project)} is not an identifier (letters, digits and _, not starting with a digit); pass --project NAME`, { field: 'project' });
      }
      const existing = await readdir(path).catch(() => []);
      if (existing.length > 0) throw new FileExistsError(`${dir} exists and is not empty; init creates a new repo folder`, { path: dir });
      for (const file of scaffold(project, new Date())) {
        await mkdir(dirname(join(path, file.path)), { recursive: true });
        await writeFile(join(path, file.path), file.text, { flag: 'wx' });
      }
      const repo = relative(process.cwd(), path) || '.';
      console.log(
        [
          `Created feature repo ${repo} (project ${project}) on the embedded defaults: featurelake.yaml, definitions.yaml, data/driver_stats.csv.`,
          'Next:',
          `  featurelake --repo ${repo} apply`,
          `  featurelake --repo ${repo} ingest driver_stats ${join(repo, 'data/driver_stats.csv')}`,
          `  featurelake --repo ${repo} materialize-incremental $(date -u +%FT%TZ)`,
          `  featurelake --repo ${repo} get-online-features --feature-service driver_activity --entity driver_id=1001,1002`,
        ].join('\n'),
      );
    });
}
