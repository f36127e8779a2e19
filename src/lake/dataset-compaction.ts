import { Injectable } from '@nestjs/common';
import { CommitConflictError } from '../common/errors';
import { TempFiles } from '../common/temp-files';
import { DatasetDef } from '../core/definitions';
import { formatTimestamp } from '../core/timestamp';
import { ObjectStore } from '../storage/object-store';
import { DataFile, datasetSnapshotLog, DatasetSnapshot, digestsOf, rewrittenSnapshot } from './dataset-manifest';
import { DatasetService } from './dataset.service';
import { FileConverter } from './file-converter';

/** A file with fewer rows than this is small; merged files hold up to twice as many. */
export const COMPACT_TARGET_ROWS = 1_000_000;

export interface CompactionOptions {
  /** A file with fewer rows is small (default COMPACT_TARGET_ROWS). */
  targetRows?: number;
  /** Compact only when the dataset has at least this many small files (default 2; a schedule waits for more). */
  minSmallFiles?: number;
  /**
   * Merge only files added up to this snapshot: those every view reading the dataset has
   * consumed, so that no view recomputes anything (default: every small file — a view that had
   * consumed some of a merged file's rows but not all recomputes its buckets in full once).
   */
  consumedUpTo?: number;
  signal?: AbortSignal;
}

export interface CompactionResult {
  /** The new snapshot; null when there was nothing to compact (fewer than two small files). */
  snapshot: DatasetSnapshot | null;
  mergedFiles: number;
  newFiles: number;
  /** Only files added up to this snapshot were considered (those the dataset's views have consumed). */
  consumedUpTo?: number;
}

/**
 * `featurelake datasets compact NAME`: rewrites a dataset's small files (many ingests, many
 * pushes) as few, as a new snapshot with the same rows — each merged file holds its inputs'
 * rows in the order they were ingested. Every older snapshot keeps its own files, so training
 * sets that pin them still verify. A compaction that loses a race with a rollback or another
 * compaction gives up cleanly (COMMIT_CONFLICT, its uploads removed); ingests that commit
 * meanwhile are kept. Views reading the dataset recompute in full once (`lastRewrite`): a merged
 * file mixes rows they had consumed with rows they had not.
 */
@Injectable()
export class DatasetCompaction {
  constructor(
    private readonly datasets: DatasetService,
    private readonly converter: FileConverter,
    private readonly store: ObjectStore,
    private readonly temp: TempFiles,
  ) {}

  /** Compacts a dataset declared in the feature repo. */
  async compact(name: string, options: CompactionOptions = {}): Promise<CompactionResult> {
    return this.compactAs(await this.datasets.definition(name), options);
  }

  /** Compacts any dataset of the lake, declared or not (a feature service's log), given its definition. */
  async compactAs(dataset: DatasetDef, options: CompactionOptions = {}): Promise<CompactionResult> {
    const name = dataset.name;
    const { targetRows = COMPACT_TARGET_ROWS, minSmallFiles = 2, consumedUpTo = Infinity, signal } = options;
    const latest = await this.datasets.snapshot(name);
    const eligible = latest?.files.filter((f) => f.addedInSnapshot <= consumedUpTo) ?? [];
    const small = eligible.filter((f) => f.rows < targetRows).length;
    const groups = latest && small >= minSmallFiles ? groupSmallFiles(eligible, targetRows) : [];
    const limit = Number.isFinite(consumedUpTo) ? { consumedUpTo } : {};
    if (!latest || groups.length === 0) return { snapshot: null, mergedFiles: 0, newFiles: 0, ...limit };
    const written: { file: DataFile; inputs: DataFile[]; path: string }[] = [];
    try {
      for (const inputs of groups) {
        const path = await this.temp.path('.parquet');
        const merged = await this.converter.merge(await Promise.all(inputs.map((f) => this.store.localPath(f.key))), dataset, path, { signal });
        const key = this.datasets.newFileKey(name);
        written.push({ path, inputs, file: mergedFile(key, merged, inputs) });
      }
      for (const w of written) await this.store.putFile(w.file.key, w.path);
      const entry = await datasetSnapshotLog(this.store, name).commit((parent, id) => nextCompacted(name, parent!.manifest, id, written));
      return { snapshot: entry.manifest, mergedFiles: groups.flat().length, newFiles: written.length, ...limit };
    } catch (error) {
      await this.store.delete(written.map((w) => w.file.key)).catch(() => undefined);
      throw error;
    } finally {
      await this.temp.remove(...written.map((w) => w.path));
    }
  }
}

/** Runs of small files, in snapshot order, each merged into one of at most 2 × target rows. */
function groupSmallFiles(files: DataFile[], targetRows: number): DataFile[][] {
  const small = files.filter((f) => f.rows < targetRows);
  const groups: DataFile[][] = [];
  let current: DataFile[] = [];
  let rows = 0;
  for (const file of small) {
    if (current.length > 0 && rows + file.rows > 2 * targetRows) {
      groups.push(current);
      current = [];
      rows = 0;
    }
    current.push(file);
    rows += file.rows;
  }
  groups.push(current);
  return groups.filter((g) => g.length > 1);
}

function mergedFile(key: string, merged: { rows: number; bytes: number; minTimestamp: bigint | null; maxTimestamp: bigint | null }, inputs: DataFile[]): DataFile {
  return {
    key,
    rows: merged.rows,
    bytes: merged.bytes,
    minTimestamp: merged.minTimestamp === null ? null : formatTimestamp(merged.minTimestamp),
    maxTimestamp: merged.maxTimestamp === null ? null : formatTimestamp(merged.maxTimestamp),
    addedInSnapshot: Math.max(...inputs.map((f) => f.addedInSnapshot)),
    firstAddedInSnapshot: Math.min(...inputs.map((f) => f.firstAddedInSnapshot ?? f.addedInSnapshot)),
    sourceName: `compaction of ${inputs.length} files`,
    mergedSha256: inputs.flatMap(digestsOf),
  };
}

/** The parent with each group's files replaced by its merged file; refused when a group's files are no longer all there. */
function nextCompacted(name: string, parent: DatasetSnapshot, id: number, written: { file: DataFile; inputs: DataFile[] }[]): DatasetSnapshot {
  const live = new Set(parent.files.map((f) => f.key));
  if (written.some((w) => w.inputs.some((f) => !live.has(f.key)))) {
    throw new CommitConflictError(`dataset ${name} changed under the compaction (a rollback or another compaction); nothing was changed, run it again`, { dataset: name });
  }
  const replaced = new Set(written.flatMap((w) => w.inputs.map((f) => f.key)));
  const files = [...parent.files.filter((f) => !replaced.has(f.key)), ...written.map((w) => w.file)];
  return rewrittenSnapshot(parent, parent, id, { operation: 'compact', files });
}
