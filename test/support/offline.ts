import { join } from 'node:path';
import { TempFiles } from '../../src/common/temp-files';
import { DatasetDef } from '../../src/core/definitions';
import { ResolvedView } from '../../src/core/catalog';
import { OnlineRecord } from '../../src/core/online-record';
import { Micros } from '../../src/core/timestamp';
import { DuckDbDatabase } from '../../src/duckdb/duckdb-database';
import { LakeOfflineStore } from '../../src/offline-store/lake.offline-store';
import { BucketRun, SourceSnapshot } from '../../src/offline-store/offline-store';
import { ViewOutputs } from '../../src/offline-store/view-outputs';
import { LocalObjectStore } from '../../src/storage/local.object-store';
import { testDatabase } from './duckdb-files';

/** A LakeOfflineStore over a local lake folder in `dir`, with its own bounded in-memory DuckDB. */
export function testOfflineStore(dir: string, buckets = 4, compactAtFiles?: number): { store: LakeOfflineStore; db: DuckDbDatabase; objects: LocalObjectStore } {
  const db = testDatabase(':memory:', dir, 'offline');
  const objects = new LocalObjectStore(join(dir, 'lake'));
  return { db, objects, store: new LakeOfflineStore(db, objects, new ViewOutputs(objects, buckets), new TempFiles(join(dir, 'tmp')), compactAtFiles) };
}

/** Every bucket of the view materialized over [start, end] from local Parquet files (one snapshot). */
export async function materializeWindow(store: LakeOfflineStore, view: ResolvedView, dataset: DatasetDef, files: string[], start: Micros, end: Micros): Promise<BucketRun[]> {
  const source: SourceSnapshot = { dataset, snapshotId: 1, files: files.map((path) => ({ path, rows: 0, addedInSnapshot: 1, minTs: null, maxTs: null })) };
  const { buckets } = await store.viewState(view);
  const runs = await store.materializeBuckets(view, Array.from({ length: buckets }, (_, b) => b), source, { kind: 'window', start, end });
  return [...runs.values()];
}

/** Every pending entity's newest row, bucket by bucket, acknowledged as an online write would (so nothing stays pending). */
export async function takePending(store: LakeOfflineStore, view: ResolvedView): Promise<OnlineRecord[]> {
  const { buckets } = await store.viewState(view);
  const records: OnlineRecord[] = [];
  for (let bucket = 0; bucket < buckets; bucket++) {
    for await (const batch of store.pendingOnline(view, bucket, 1000)) {
      records.push(...batch.records);
      await batch.ack();
    }
  }
  return records;
}
