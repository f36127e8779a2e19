import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppModule } from '../../src/app.module';
import { loadConfig } from '../../src/config/load-config';
import { encodeEntityKey } from '../../src/core/entity-key';
import { parseTimestamp } from '../../src/core/timestamp';
import { DatasetService } from '../../src/lake/dataset.service';
import { MaterializationJobs } from '../../src/materialization/materialization-jobs.service';
import { OnlineStore } from '../../src/online-store/online-store';
import { RegistryService } from '../../src/registry/registry.service';
import { ViewManifest } from '../../src/offline-store/view-manifest';

const t = (iso: string) => parseTimestamp(iso) as bigint;
const defs = (online: boolean) => `
entities: [{ name: user, join_keys: [user_id], value_type: int64 }]
datasets: [{ name: events, timestamp_field: ts }]
feature_views:
  - { name: scores, entities: [user], source: events, online: ${online}, features: [{ name: score, type: float64 }] }
`;

/** A view kept offline only: nothing of it waits for the online store, so its buckets stay lean; turned online, every entity goes there. */
describe('an offline-only view', () => {
  let dir: string;
  let repo: string;
  let app: INestApplicationContext;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fl-offline-only-'));
    repo = join(dir, 'repo');
    mkdirSync(repo);
    writeFileSync(join(repo, 'featurelake.yaml'), 'project: offonly\nlake:\n  uri: file://../lake\nstate_dir: ..\noffline: { buckets: 4 }\n');
    writeFileSync(join(repo, 'defs.yaml'), defs(false));
    app = await NestFactory.createApplicationContext(AppModule.register(loadConfig(repo, {})), { logger: false });
    await app.get(RegistryService).apply();
    const csv = join(dir, 'events.csv');
    writeFileSync(csv, ['user_id,ts,score', ...Array.from({ length: 200 }, (_, i) => `${i % 20},2026-01-01T${String(Math.floor(i / 20)).padStart(2, '0')}:00:00Z,${i}`)].join('\n'));
    await app.get(DatasetService).ingest('events', [{ path: csv, format: 'csv', name: 'events.csv' }]);
  });

  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const jobs = () => app.get(MaterializationJobs);
  const latestManifest = (): ViewManifest => {
    const shapes = join(dir, 'lake/views/scores');
    const folder = join(shapes, readdirSync(shapes)[0], 'manifests');
    return JSON.parse(readFileSync(join(folder, readdirSync(folder).sort().at(-1)!), 'utf8')) as ViewManifest;
  };

  it('leaves nothing pending online, and a bucket keeps one file however often its whole window is recomputed', async () => {
    for (let run = 0; run < 3; run++) {
      const job = await jobs().wait((await jobs().submit({ kind: 'materialize', start: t('2026-01-01'), end: t('2026-01-02'), views: ['scores'] })).id);
      expect(job.state).toBe('succeeded');
    }
    for (const state of latestManifest().bucketStates) {
      expect({ files: state.files.length, windows: state.windows.length, pendingFrom: state.pendingFrom }).toEqual({ files: 1, windows: 0, pendingFrom: null });
    }
  });

  it('once turned online, writes every entity online at its next run', async () => {
    writeFileSync(join(repo, 'defs.yaml'), defs(true));
    await app.get(RegistryService).apply();
    const job = await jobs().wait((await jobs().submit({ kind: 'materialize-incremental', end: t('2026-01-02'), views: ['scores'] })).id);
    expect(job.state).toBe('succeeded');
    const catalog = await app.get(RegistryService).catalog();
    const [records] = await app.get(OnlineStore).read(catalog.project, [{ view: catalog.view('scores'), entityKeys: Array.from({ length: 20 }, (_, u) => encodeEntityKey([u])) }]);
    expect(records.filter((r) => r !== null)).toHaveLength(20);
    // Each user's latest row is its tenth (hour 09): score u + 180.
    expect(records.map((r) => r!.values[0])).toEqual(Array.from({ length: 20 }, (_, u) => u + 180));
  });
});
