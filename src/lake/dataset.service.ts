import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { DatasetNotFoundError, ExpectationFailedError, SchemaMismatchError, SnapshotNotFoundError, UnsupportedMediaTypeError, ValidationFailedError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { DatasetDef } from '../core/definitions';
import { isIdentifier } from '../core/identifiers';
import { formatTimestamp, Micros, parseTimestamp } from '../core/timestamp';
import { RegistryService } from '../registry/registry.service';
import { ColumnSchema, CONTENT_TYPES, datasetSnapshotLog, DataFile, DatasetSnapshot, digestsOf, DuplicateInput, ExpiredSnapshot, expiredSnapshotKey, FileFormat, IngestedSnapshot, IngestInput, rewrittenSnapshot, SnapshotChecks } from './dataset-manifest';
import { IngestChecks } from './ingest-checks';
import { ConvertedFile, FileConverter } from './file-converter';
import { ManifestLog } from '../storage/manifest-log';
import { ObjectStore } from '../storage/object-store';
import { TempFiles } from '../common/temp-files';
import { withWorkControl } from '../common/work-control';
import { stoppedError } from '../duckdb/progress';
import { ComputeCalls } from '../queue/compute-calls';
import { ScratchObjects } from '../storage/scratch-objects';
import { DocumentStore } from '../storage/document-store';

/** An HTTP ingest as a worker takes it: the body in the lake (from another process) or at a local path. */
interface IngestCall {
  name: string;
  format: FileFormat;
  allowDuplicate?: boolean;
  fileKeys?: string[];
  path?: string;
  key?: string;
}

/** An HTTP body received into a local temp file. */
export interface ReceivedBody {
  path: string;
  format: FileFormat;
}

export interface DatasetSummary {
  name: string;
  declared: boolean;
  latest: DatasetSnapshot | null;
}

export interface DatasetDetails extends DatasetSummary {
  snapshots: { snapshotId: number; committedAt: string; rowCount: number; added: { files: number; rows: number } }[];
}

/** Progress of an ingest, for progress bars: converting a file (engine progress), uploading, committing. */
export type IngestProgress =
  | { phase: 'converting'; file: string; fraction: number | null; rowsPerSecond: number | null; etaSeconds: number | null }
  | { phase: 'uploading' | 'committing'; file: string | null };

export interface IngestOptions {
  onProgress?: (progress: IngestProgress) => void;
  /** The lake keys the data files get, one per input (default: new random ones); lets a caller find its commit later. */
  fileKeys?: string[];
  /** Stops the ingest before it commits (a DomainError reason is what it fails with). */
  signal?: AbortSignal;
  /** The rows were checked against the dataset's expectations already (a push): not again. */
  expectationsChecked?: boolean;
  /** Add inputs whose bytes the dataset holds already (by default they are left out, and said so). */
  allowDuplicate?: boolean;
}

interface StagedFile {
  converted: ConvertedFile;
  key: string;
  input: IngestInput;
  digest: string;
}

/** Rows a quarantine set apart: a local file, bound for `key` in the lake beside the dataset. */
interface QuarantinedFile {
  path: string;
  rows: number;
  file: string;
  key: string;
}

/**
 * Datasets in the lake: ingest (convert → upload → commit a snapshot), catalog and snapshot reads.
 * An ingest that fails at any step commits nothing, and its uploaded objects are removed.
 */
@Injectable()
export class DatasetService {
  constructor(
    private readonly config: AppConfig,
    private readonly store: ObjectStore,
    private readonly converter: FileConverter,
    private readonly registry: RegistryService,
    private readonly temp: TempFiles,
    private readonly calls: ComputeCalls,
    private readonly scratch: ScratchObjects,
    private readonly checks: IngestChecks,
    private readonly documents: DocumentStore,
  ) {
    calls.register('dataset.ingest', (input: IngestCall, context) => this.ingestCall(input, context.signal));
  }

  /**
   * Ingests local files as one snapshot (all of them or none) into a dataset declared in the
   * registry, within `limits.ingest_timeout_seconds`; `signal` stops it early (the client left).
   */
  async ingest(name: string, inputs: IngestInput[], options: IngestOptions = {}): Promise<IngestedSnapshot> {
    return this.ingestAs(await this.declared(name), inputs, options);
  }

  /** The same for a dataset featurelake keeps itself (feature logs), described by `dataset`. */
  async ingestAs(dataset: DatasetDef, inputs: IngestInput[], options: IngestOptions = {}): Promise<IngestedSnapshot> {
    this.log(dataset.name); // the name must be an identifier
    const timeout = { seconds: this.config.limits.ingestTimeoutSeconds, field: 'limits.ingest_timeout_seconds' };
    return withWorkControl({ signals: [options.signal], timeout }, (signal) => this.stageAndCommit(dataset, inputs, signal, options));
  }

  /** The snapshot that added data file `key` to the dataset, or null when no snapshot holds it (it was never committed). */
  async snapshotAdding(name: string, key: string): Promise<number | null> {
    const latest = await this.snapshot(name);
    return latest?.files.find((f) => f.key === key)?.addedInSnapshot ?? null;
  }

  /** A new data file's key in the lake. */
  newFileKey(name: string): string {
    return `datasets/${name}/data/${randomUUID()}.parquet`;
  }

  private async stageAndCommit(dataset: DatasetDef, inputs: IngestInput[], signal: AbortSignal, options: IngestOptions): Promise<IngestedSnapshot> {
    const onProgress = options.onProgress;
    const name = dataset.name;
    const staged: StagedFile[] = [];
    const quarantined: QuarantinedFile[] = [];
    const violations: SnapshotChecks['violations'] = [];
    const skipped: DuplicateInput[] = [];
    try {
      const latest = (await this.log(name).latest())?.manifest ?? null;
      let schema = latest?.schema ?? null;
      const known = new Map<string, number | null>((latest?.files ?? []).flatMap((f) => digestsOf(f).map((d) => [d, f.addedInSnapshot] as [string, number])));
      for (const input of inputs) {
        const digest = await this.temp.sha256(input.path);
        if (known.has(digest) && !options.allowDuplicate) {
          skipped.push({ file: input.name, snapshotId: known.get(digest)! });
          continue;
        }
        known.set(digest, null);
        const converted = await this.convert(input, dataset, schema, signal, onProgress);
        const checked = await this.checks.apply(options.expectationsChecked ? { ...dataset, expectations: undefined } : dataset, input, converted).catch(async (error: unknown) => {
          await this.temp.remove(converted.path);
          throw error;
        });
        schema ??= converted.schema;
        if (checked.converted) staged.push({ converted: checked.converted, input, digest, key: options.fileKeys?.[staged.length] ?? this.newFileKey(name) });
        if (checked.quarantined) quarantined.push({ ...checked.quarantined, file: input.name, key: `datasets/${name}/quarantine/${randomUUID()}.parquet` });
        violations.push(...checked.violations.map((v) => ({ rule: v.name, file: input.name, violations: v.violations })));
      }
      for (const file of [...staged.map((f) => ({ key: f.key, path: f.converted.path, name: f.input.name })), ...quarantined.map((q) => ({ key: q.key, path: q.path, name: q.file }))]) {
        onProgress?.({ phase: 'uploading', file: file.name });
        if (signal.aborted) throw stoppedError(signal);
        await this.store.putFile(file.key, file.path);
      }
      // Every input is in the dataset already: nothing to commit, and the answer says where they are.
      if (skipped.length === inputs.length && latest) return { ...latest, skipped };
      if (staged.length === 0) throw nothingKept(dataset, quarantined);
      const profile = await this.checks.profile(staged.map((f) => f.converted.path), staged[0].converted.schema);
      const checks = dataset.expectations ? { mode: dataset.expectations.onViolation, violations, quarantined: quarantined.map(({ key, rows, file }) => ({ key, rows, file })) } : undefined;
      onProgress?.({ phase: 'committing', file: null });
      if (signal.aborted) throw stoppedError(signal);
      // An ingest of the same bytes may have committed while this one ran: checked again on the parent each try.
      let raced: StagedFile[] = [];
      const entry = await this.log(name).commit((parent, id) => {
        raced = options.allowDuplicate ? [] : staged.filter((f) => parent?.manifest.files.some((p) => digestsOf(p).includes(f.digest)));
        if (raced.length === staged.length) throw new DuplicateRace(parent!.manifest);
        return { ...nextSnapshot(name, parent?.manifest ?? null, id, staged.filter((f) => !raced.includes(f))), profile, ...(checks ? { checks } : {}) };
      }).catch((error: unknown) => (error instanceof DuplicateRace ? error : Promise.reject(error)));
      const manifest = entry instanceof DuplicateRace ? entry.latest : entry.manifest;
      if (raced.length > 0) await this.store.delete(raced.map((f) => f.key));
      skipped.push(...raced.map((f) => ({ file: f.input.name, snapshotId: manifest.files.find((p) => digestsOf(p).includes(f.digest))?.addedInSnapshot ?? null })));
      return skipped.length > 0 ? { ...manifest, skipped } : manifest;
    } catch (error) {
      await this.store.delete([...staged.map((f) => f.key), ...(error instanceof ExpectationFailedError ? [] : quarantined.map((q) => q.key))]).catch(() => undefined);
      throw error;
    } finally {
      await this.temp.remove(...staged.map((f) => f.converted.path), ...quarantined.map((q) => q.path));
    }
  }

  private async convert(input: IngestInput, dataset: DatasetDef, schema: ColumnSchema[] | null, signal: AbortSignal, onProgress: IngestOptions['onProgress']): Promise<ConvertedFile> {
    const started = Date.now();
    const control = {
      signal,
      onProgress: onProgress && (({ fraction, rowsProcessed }: { fraction: number | null; rowsProcessed: number }) => {
        const seconds = (Date.now() - started) / 1000;
        onProgress({
          phase: 'converting',
          file: input.name,
          fraction,
          rowsPerSecond: seconds > 0 ? rowsProcessed / seconds : null,
          etaSeconds: fraction ? (seconds * (1 - fraction)) / fraction : null,
        });
      }),
    };
    const output = await this.temp.path('.parquet');
    return this.converter.toParquet(input, dataset, schema, output, control).catch(async (error: unknown) => {
      await this.temp.remove(output); // a file refused half-way (too many rows, bad values) leaves nothing behind
      throw error;
    });
  }

  /** Ingests an HTTP body: streamed to a temp file (bounded), then converted and committed where compute runs (through the lake to a worker). */
  async ingestStream(name: string, body: Readable, contentType: string | undefined, signal?: AbortSignal, allowDuplicate = false): Promise<IngestedSnapshot> {
    const received = await this.receive(name, body, contentType);
    try {
      return await this.ingestReceived(name, received, { allowDuplicate }, signal);
    } finally {
      await this.temp.remove(received.path);
    }
  }

  /** An HTTP body in a local temp file (the caller removes it), once its type and dataset are known good. */
  async receive(name: string, body: Readable, contentType: string | undefined): Promise<ReceivedBody> {
    const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase();
    const format = CONTENT_TYPES[mediaType];
    if (!format) {
      throw new UnsupportedMediaTypeError(
        `Content-Type ${JSON.stringify(mediaType || '(none)')} is not supported; send Parquet (application/vnd.apache.parquet), CSV (text/csv) or JSON Lines (application/x-ndjson)`,
        { supported: Object.keys(CONTENT_TYPES) },
      );
    }
    await this.declared(name);
    return { path: await this.temp.fromStream(body, `.${format}`, this.config.limits.maxUploadBytes), format };
  }

  /** Ingests a received body where compute runs; `fileKeys` as for ingest. */
  async ingestReceived(name: string, received: ReceivedBody, options: Pick<IngestOptions, 'allowDuplicate' | 'fileKeys'>, signal?: AbortSignal): Promise<IngestedSnapshot> {
    const { path, format } = received;
    let key: string | undefined;
    try {
      if (this.calls.remote) key = await this.scratch.put('uploads', path, `.${format}`);
      const call: IngestCall = { name, format, allowDuplicate: options.allowDuplicate, fileKeys: options.fileKeys, ...(key ? { key } : { path }) };
      return await this.calls.run<IngestCall, IngestedSnapshot>('dataset.ingest', call, signal);
    } finally {
      if (key) await this.scratch.remove(key);
    }
  }

  private async ingestCall(input: IngestCall, signal: AbortSignal): Promise<IngestedSnapshot> {
    const path = input.key ? await this.scratch.fetch(input.key, `.${input.format}`) : input.path!;
    try {
      return await this.ingest(input.name, [{ path, format: input.format, name: 'request body' }], { signal, allowDuplicate: input.allowDuplicate, fileKeys: input.fileKeys });
    } finally {
      if (input.key) await this.temp.remove(path);
    }
  }

  async list(): Promise<DatasetSummary[]> {
    const declared = await this.declaredNames();
    const stored = await this.store.listFolders('datasets/');
    const names = [...new Set([...declared, ...stored])].sort();
    return Promise.all(names.map(async (n) => ({ name: n, declared: declared.includes(n), latest: await this.snapshot(n) })));
  }

  async describe(name: string): Promise<DatasetDetails> {
    const log = this.log(name);
    const declared = (await this.declaredNames()).includes(name);
    const ids = await log.ids();
    if (!declared && ids.length === 0) throw new DatasetNotFoundError(`dataset ${JSON.stringify(name)} does not exist`, { dataset: name });
    const entries = await Promise.all(ids.map((id) => log.get(id)));
    const snapshots = entries.flatMap((e) => (e ? [e.manifest] : []));
    return {
      name,
      declared,
      latest: snapshots.at(-1) ?? null,
      snapshots: snapshots.map((s) => ({ snapshotId: s.snapshotId, committedAt: s.committedAt, rowCount: s.rowCount, added: s.added })),
    };
  }

  /**
   * Commits a new snapshot equal to snapshot `to`: the same files, schema and totals, so a
   * bad ingest is undone without losing history (every snapshot stays readable). Views
   * materialized since recompute in full at their next run (`lastRewrite`).
   */
  async rollback(name: string, to: number): Promise<DatasetSnapshot> {
    await this.declared(name);
    const target = await this.snapshot(name, to);
    if (!target) {
      const expired = await this.documents.get<ExpiredSnapshot>(expiredSnapshotKey(name, to));
      const why = expired ? `: it expired under the dataset's retention at ${expired.expiredAt}` : '';
      throw new SnapshotNotFoundError(`dataset ${name} has no snapshot ${to}${why}`, { dataset: name, snapshot: to });
    }
    const entry = await this.log(name).commit((parent, id) => {
      if (!parent || parent.manifest.snapshotId === to) throw new ValidationFailedError(`--to: snapshot ${to} is the latest of dataset ${name} already; nothing to roll back`, { field: 'to' });
      return rewrittenSnapshot(target, parent.manifest, id, { operation: 'rollback', files: target.files, rolledBackTo: to });
    });
    return entry.manifest;
  }

  /**
   * The latest snapshot, or the given one; null when the dataset has no data (yet). With
   * `includeExpired`, a snapshot retention let go but GC has not yet deleted is found too (what
   * a training set's rebuild needs; nothing new is ever built on one).
   */
  async snapshot(name: string, snapshotId?: number, options: { includeExpired?: boolean } = {}): Promise<DatasetSnapshot | null> {
    const entry = snapshotId === undefined ? await this.log(name).latest() : await this.log(name).get(snapshotId);
    if (entry || snapshotId === undefined || !options.includeExpired) return entry?.manifest ?? null;
    return (await this.documents.get<ExpiredSnapshot>(expiredSnapshotKey(name, snapshotId)))?.snapshot ?? null;
  }

  /** Local paths of a snapshot's data files (downloaded into the cache when the lake is remote). */
  async localFiles(snapshot: DatasetSnapshot): Promise<string[]> {
    return Promise.all(snapshot.files.map((f) => this.store.localPath(f.key)));
  }

  async localPath(key: string): Promise<string> {
    return this.store.localPath(key);
  }

  /** Every read and write goes through here: a name that is not an identifier names no dataset. */
  private log(name: string): ManifestLog<DatasetSnapshot> {
    if (!isIdentifier(name)) throw new DatasetNotFoundError(`dataset ${JSON.stringify(name)} does not exist`, { dataset: name });
    return datasetSnapshotLog(this.store, name);
  }

  /** The dataset's applied definition (DATASET_NOT_FOUND when it is not declared). */
  definition(name: string): Promise<DatasetDef> {
    return this.declared(name);
  }

  private async declared(name: string): Promise<DatasetDef> {
    const catalog = await this.registry.catalog();
    try {
      return catalog.dataset(name);
    } catch {
      throw new DatasetNotFoundError(
        `dataset ${JSON.stringify(name)} is not declared; add it under datasets: in the feature repo and run featurelake apply`,
        { dataset: name },
      );
    }
  }

  private async declaredNames(): Promise<string[]> {
    const catalog = await this.registry.catalog().catch(() => null);
    return catalog?.registry.datasets.map((d) => d.name) ?? [];
  }
}

/** Every staged file's bytes were committed by a concurrent ingest while this one ran: nothing to add. */
class DuplicateRace {
  constructor(readonly latest: DatasetSnapshot) {}
}

/** Every row of every file broke a row rule: the quarantined rows are in the lake, and no snapshot is made. */
function nothingKept(dataset: DatasetDef, quarantined: QuarantinedFile[]): ExpectationFailedError {
  const rows = quarantined.reduce((n, q) => n + q.rows, 0);
  return new ExpectationFailedError(
    `no row kept dataset ${dataset.name}'s expectations: all ${rows.toLocaleString('en-US')} rows were quarantined (${quarantined.map((q) => q.key).join(', ')}); nothing was committed`,
    { dataset: dataset.name, quarantined: quarantined.map((q) => ({ key: q.key, rows: q.rows, file: q.file })) },
  );
}

/** The snapshot after appending `staged` to `parent`; refuses a schema that changed under us. */
function nextSnapshot(name: string, parent: DatasetSnapshot | null, id: number, staged: StagedFile[]): DatasetSnapshot {
  const schema = staged[0].converted.schema;
  if (parent && !sameSchema(parent.schema, schema)) {
    throw new SchemaMismatchError(`dataset ${name} changed schema while this ingest ran; ingest again`);
  }
  const added: DataFile[] = staged.map(({ converted, key, input, digest }) => ({
    key,
    rows: converted.rows,
    bytes: converted.bytes,
    minTimestamp: converted.minTimestamp === null ? null : formatTimestamp(converted.minTimestamp),
    maxTimestamp: converted.maxTimestamp === null ? null : formatTimestamp(converted.maxTimestamp),
    addedInSnapshot: id,
    sourceName: input.name,
    sourceSha256: digest,
  }));
  const files = [...(parent?.files ?? []), ...added];
  return {
    format: 1,
    dataset: name,
    snapshotId: id,
    parentSnapshotId: parent?.snapshotId ?? null,
    committedAt: new Date().toISOString(),
    operation: 'append',
    ...(parent?.lastRewrite ? { lastRewrite: parent.lastRewrite } : {}),
    schema: parent?.schema ?? schema,
    files,
    rowCount: files.reduce((n, f) => n + f.rows, 0),
    timeRange: timeRange(parent, staged.map((s) => s.converted)),
    added: { files: added.length, rows: added.reduce((n, f) => n + f.rows, 0) },
  };
}

function sameSchema(a: ColumnSchema[], b: ColumnSchema[]): boolean {
  const key = (s: ColumnSchema[]) => JSON.stringify([...s].sort((x, y) => x.name.localeCompare(y.name)));
  return key(a) === key(b);
}

function timeRange(parent: DatasetSnapshot | null, files: ConvertedFile[]): DatasetSnapshot['timeRange'] {
  const mins: Micros[] = files.flatMap((f) => (f.minTimestamp === null ? [] : [f.minTimestamp]));
  const maxs: Micros[] = files.flatMap((f) => (f.maxTimestamp === null ? [] : [f.maxTimestamp]));
  if (parent?.timeRange) {
    mins.push(parseTimestamp(parent.timeRange.min)!);
    maxs.push(parseTimestamp(parent.timeRange.max)!);
  }
  if (mins.length === 0) return null;
  const lo = mins.reduce((a, b) => (b < a ? b : a));
  const hi = maxs.reduce((a, b) => (b > a ? b : a));
  return { min: formatTimestamp(lo), max: formatTimestamp(hi) };
}
