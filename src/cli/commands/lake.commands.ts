import { Command } from 'commander';
import { basename, resolve } from 'node:path';
import { ValidationFailedError } from '../../common/errors';
import { DatasetService } from '../../lake/dataset.service';
import { formatFromFileName, IngestInput } from '../../lake/dataset-manifest';
import { GlobalOptions, withServices } from '../context';
import { count, seconds, table } from '../output';
import { RegistryService } from '../../registry/registry.service';
import { LakeMaintenance } from '../../maintenance/lake-maintenance';
import { toRegistryBody } from '../../registry/registry.mapper';
import { describeYaml } from './definitions.commands';
import { ProgressReporter } from '../progress';

export function lakeCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command('ingest')
    .description('land files (Parquet, CSV or JSON Lines) in a dataset as one new snapshot')
    .argument('<dataset>', 'dataset name (declared in the feature repo)')
    .argument('<files...>', 'files to ingest; the format comes from the extension')
    .option('--allow-duplicate', 'add files whose bytes the dataset holds already (by default they are left out)')
    .action((dataset: string, files: string[], options: { allowDuplicate?: boolean }) =>
      withServices(globals(), async (get) => {
        const started = Date.now();
        const reporter = new ProgressReporter();
        const snapshot = await get(DatasetService)
          .ingest(dataset, files.map(toInput), {
            allowDuplicate: options.allowDuplicate,
            onProgress: (p) =>
              reporter.update(
                p.phase === 'converting'
                  ? { label: `${p.file} (converting)`, fraction: p.fraction, rowsPerSecond: p.rowsPerSecond, etaSeconds: p.etaSeconds }
                  : { label: p.file ? `${p.file} (${p.phase})` : p.phase, fraction: null, rowsPerSecond: null, etaSeconds: null },
              ),
          })
          .finally(() => reporter.done());
        for (const d of snapshot.skipped ?? []) {
          const where = d.snapshotId === null ? 'given twice' : `already in snapshot ${d.snapshotId}`;
          console.log(`Skipped ${d.file}: the same bytes are ${where} of ${dataset} (--allow-duplicate adds them again).`);
        }
        if (snapshot.skipped?.length === files.length) {
          console.log(`Nothing to ingest: ${dataset} stays at snapshot ${snapshot.snapshotId} (${count(snapshot.rowCount)} rows).`);
          return;
        }
        const range = snapshot.timeRange ? `, events ${snapshot.timeRange.min} … ${snapshot.timeRange.max}` : '';
        console.log(
          `Ingested ${count(snapshot.added.rows)} rows into ${dataset} as snapshot ${snapshot.snapshotId} ` +
            `(${count(snapshot.rowCount)} rows in all${range}) in ${seconds(Date.now() - started)}.`,
        );
      }),
    );

  const datasets = program.command('datasets').description('the datasets of the lake');
  datasets
    .command('list', { isDefault: true })
    .description('each dataset with its latest snapshot, rows, files and event-time range')
    .action(() =>
      withServices(globals(), async (get) => {
        const rows = (await get(DatasetService).list()).map((d) => [
          d.name,
          d.latest ? String(d.latest.snapshotId) : '-',
          count(d.latest?.rowCount ?? 0),
          String(d.latest?.files.length ?? 0),
          d.latest?.timeRange ? `${d.latest.timeRange.min} … ${d.latest.timeRange.max}` : '-',
          d.declared ? '' : '(not declared)',
        ]);
        console.log(table(['dataset', 'snapshot', 'rows', 'files', 'event time range', ''], rows));
      }),
    );
  datasets
    .command('compact')
    .description("rewrite the dataset's (or a feature log's) small files that its views have consumed as few, as a new snapshot with the same rows")
    .argument('<name>')
    .option('--all', 'every small file, also those a view has not consumed yet (such a view then recomputes the buckets they touch in full, once)')
    .action((name: string, options: { all?: boolean }) =>
      withServices(globals(), async (get) => {
        const result = await get(LakeMaintenance).compactDataset(name, { all: options.all });
        const limited = result.consumedUpTo === undefined ? '' : ` added up to snapshot ${result.consumedUpTo}, which its views have consumed (--all takes the newer ones too)`;
        if (!result.snapshot) return console.log(`Nothing to compact: ${name} has fewer than two small files${limited}.`);
        console.log(`Compacted ${result.mergedFiles} files of ${name} into ${result.newFiles} as snapshot ${result.snapshot.snapshotId} (${count(result.snapshot.rowCount)} rows, ${result.snapshot.files.length} files).`);
      }),
    );
  datasets
    .command('rollback')
    .description('commit a new snapshot equal to an earlier one (its files, schema and rows); views recompute in full at their next run')
    .argument('<name>')
    .requiredOption('--to <snapshot>', 'the snapshot id to go back to')
    .action((name: string, options: { to: string }) =>
      withServices(globals(), async (get) => {
        const to = Number(options.to);
        if (!Number.isInteger(to) || to < 1) throw new ValidationFailedError(`--to: must be a snapshot id (a whole number from 1), got ${JSON.stringify(options.to)}`, { field: 'to' });
        const snapshot = await get(DatasetService).rollback(name, to);
        console.log(`Rolled ${name} back to snapshot ${to} as snapshot ${snapshot.snapshotId} (${count(snapshot.rowCount)} rows, ${snapshot.files.length} files). Materialize to bring the views along.`);
      }),
    );
  datasets
    .command('describe')
    .description('one dataset as YAML: its definition, the latest snapshot\'s schema and totals, and every snapshot')
    .argument('<name>')
    .action((name: string) =>
      withServices(globals(), async (get) => {
        const details = await get(DatasetService).describe(name);
        const registry = get(RegistryService);
        await registry.refresh();
        const definition = details.declared ? toRegistryBody((await registry.catalog()).registry).datasets.find((d) => d.name === name) : undefined;
        const latest = details.latest;
        process.stdout.write(
          describeYaml({
            ...(definition ?? { name, declared: false }),
            latest_snapshot: latest && {
              snapshot_id: latest.snapshotId,
              committed_at: latest.committedAt,
              rows: latest.rowCount,
              files: latest.files.length,
              event_time_range: latest.timeRange,
              schema: latest.schema,
              // Of the rows this snapshot added, and what the expectations found in them.
              profile: latest.profile,
              checks: latest.checks,
            },
            snapshots: details.snapshots.map((s) => ({ snapshot_id: s.snapshotId, committed_at: s.committedAt, rows: s.rowCount, added_rows: s.added.rows, added_files: s.added.files })),
          }),
        );
      }),
    );
}

function toInput(file: string): IngestInput {
  const format = formatFromFileName(file);
  if (!format) {
    throw new ValidationFailedError(`${file}: unknown format; use a .parquet, .csv or .jsonl (JSON Lines) file`, { file });
  }
  return { path: resolve(file), format, name: basename(file) };
}
