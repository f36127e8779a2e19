import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { featurelake } from '../support/cli';
import { query } from '../support/duckdb-files';

/**
 * Feast's CLI verbs as a new user meets them: `init` makes a repo that works end to end on the
 * embedded defaults, the definitions are listed and described, the registry dumped, and
 * `teardown` removes what materialization built (only with --yes).
 */
// Each test runs the CLI a dozen times (about a second each, several on a loaded 2-core machine).
jest.setTimeout(180_000);

describe('featurelake init, list/describe, registry-dump and teardown', () => {
  let dir: string;
  let repo: string;
  const run = (...args: string[]) => featurelake(repo, args);
  const now = () => new Date().toISOString();

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fl-verbs-'));
    repo = join(dir, 'ride-hailing');
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('init writes a repo that applies, ingests, materializes and serves fresh values', () => {
    const init = featurelake(repo, ['init', repo]);
    expect(init.status).toBe(0);
    expect(init.stdout).toContain('(project ride_hailing)');
    expect(run('apply').stdout).toContain('Applied registry version 1 (project ride_hailing).');
    expect(run('ingest', 'driver_stats', join(repo, 'data/driver_stats.csv')).stdout).toMatch(/Ingested 840 rows into driver_stats as snapshot 1/);
    expect(run('materialize-incremental', now()).stdout).toMatch(/succeeded/);
    const online = JSON.parse(run('get-online-features', '--feature-service', 'driver_activity', '--entity', 'driver_id=1001,1005', '--json').stdout);
    expect(online.metadata.feature_names).toEqual(['driver_id', 'conv_rate', 'acc_rate', 'avg_daily_trips', 'conv_rate_7d']);
    // The sample ends an hour ago and the views' ttl is a day: every value is served as fresh.
    for (const column of online.results.slice(1)) expect(column.statuses).toEqual(['PRESENT', 'PRESENT']);
    // Bound against the ingested data now, the repo still plans clean.
    expect(run('plan').stdout).toMatch(/Registry version: 1\nNo changes[^\n]*\n?$/);
  });

  it('refuses to init into a folder that is not empty, and a name that is no project name', () => {
    const again = featurelake(repo, ['init', repo]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/^error \[FILE_EXISTS\]: .*ride-hailing exists and is not empty/);
    expect(readFileSync(join(repo, 'featurelake.yaml'), 'utf8')).toContain('project: ride_hailing');
    const bad = featurelake(repo, ['init', join(dir, '9lives')]);
    expect(bad.stderr).toMatch(/^error \[VALIDATION_FAILED\]: project "9lives" is not an identifier.*--project NAME/);
  });

  it('lists and describes entities, feature views and feature services, filtered by tags', () => {
    expect(run('entities', 'list').stdout).toMatch(/driver\s+driver_id:int64\s+a driver of the ride-hailing fleet/);
    const views = run('feature-views', 'list').stdout;
    expect(views).toMatch(/driver_hourly_stats\s+driver\s+driver_stats\s+1d\s+3\s+yes\s+team=driver_performance/);
    expect(views).toMatch(/driver_weekly_stats\s+driver\s+driver_stats\s+2d\s+2\s+yes/);
    const tagged = run('feature-views', 'list', '--tags', 'team:driver_performance').stdout;
    expect(tagged).toContain('driver_hourly_stats');
    expect(tagged).not.toContain('driver_weekly_stats');
    expect(run('feature-services').stdout).toMatch(/driver_activity\s+driver_hourly_stats, driver_weekly_stats:conv_rate_7d\s+what the ranking model reads online/);

    const view = parse(run('feature-views', 'describe', 'driver_weekly_stats').stdout);
    expect(view).toMatchObject({ name: 'driver_weekly_stats', ttl: '2d', lookback: '1w', features: [{ name: 'conv_rate_7d', type: 'float64' }, { name: 'trips_7d', type: 'float64' }] });
    expect(parse(run('feature-views', 'describe', 'driver_hourly_stats').stdout)).toMatchObject({ tags: { team: 'driver_performance' }, features: [{ name: 'conv_rate', description: 'share of offers accepted and completed' }, {}, {}] });
    expect(parse(run('entities', 'describe', 'driver').stdout)).toEqual({ name: 'driver', join_keys: [{ name: 'driver_id', type: 'int64' }], description: 'a driver of the ride-hailing fleet' });
    expect(parse(run('feature-services', 'describe', 'driver_activity').stdout)).toMatchObject({ features: ['driver_hourly_stats', 'driver_weekly_stats:conv_rate_7d'] });
    expect(run('feature-views', 'describe', 'nope').stderr).toMatch(/^error \[FEATURE_VIEW_NOT_FOUND\]: feature view "nope" is not defined/);
    expect(run('entities', 'describe', 'nope').stderr).toMatch(/^error \[ENTITY_NOT_FOUND\]/);
    expect(run('feature-services', 'describe', 'nope').stderr).toMatch(/^error \[FEATURE_SERVICE_NOT_FOUND\]/);
  });

  it('describes datasets (snapshots and schema) and saved training sets', () => {
    const dataset = parse(run('datasets', 'describe', 'driver_stats').stdout);
    expect(dataset).toMatchObject({ name: 'driver_stats', owner: 'you@example.com', latest_snapshot: { snapshot_id: 1, rows: 840, files: 1 }, snapshots: [{ snapshot_id: 1, rows: 840, added_rows: 840 }] });
    expect(dataset.latest_snapshot.schema.map((c: { name: string }) => c.name)).toEqual(['driver_id', 'event_timestamp', 'created', 'conv_rate', 'acc_rate', 'avg_daily_trips']);
    expect(run('datasets').stdout).toMatch(/driver_stats\s+1\s+840\s+1/);

    expect(run('datasets', 'describe', 'nope').stderr).toMatch(/^error \[DATASET_NOT_FOUND\]/);

    writeSpineAndSave();
    expect(run('training-sets', 'list').stdout).toMatch(/ranking\s+\S+\s+2\s+1\s+driver_stats@1/);
    expect(JSON.parse(run('training-sets', 'describe', 'ranking').stdout)).toMatchObject({ name: 'ranking', row_count: 2 });
  });

  it('dumps the applied registry as JSON', () => {
    const dump = JSON.parse(run('registry-dump').stdout);
    expect(dump).toMatchObject({ project: 'ride_hailing', version: 1 });
    expect(dump.feature_views.map((v: { name: string }) => v.name)).toEqual(['driver_hourly_stats', 'driver_weekly_stats']);
    expect(dump.push_sources).toEqual([{ name: 'driver_stats_push', dataset: 'driver_stats' }]);
  });

  it('rolls a dataset back to an earlier snapshot: the views recompute in full, and training data has the earlier values again', async () => {
    const read = () => JSON.parse(run('get-online-features', '--features', 'driver_hourly_stats:conv_rate', '--entity', 'driver_id=1001', '--json').stdout).results[1].values[0];
    const spine = join(dir, 'latest.csv');
    writeFileSync(spine, `driver_id,event_timestamp\n1001,${now()}\n`);
    const offline = async () => {
      const out = join(dir, `pit-${Date.now()}.parquet`);
      run('get-historical-features', '--features', 'driver_hourly_stats:conv_rate', '--entities', spine, '--output', out);
      return (await query(`SELECT conv_rate FROM read_parquet('${out}')`))[0].conv_rate as number;
    };
    const before = read();
    expect(await offline()).toBeCloseTo(before, 5);
    const bad = join(dir, 'bad.csv');
    const at = new Date(Date.now() - 60_000).toISOString();
    writeFileSync(bad, `driver_id,event_timestamp,created,conv_rate,acc_rate,avg_daily_trips\n1001,${at},${at},0.999,0.5,1\n`);
    expect(run('ingest', 'driver_stats', bad).stdout).toMatch(/as snapshot 2 \(841 rows in all/);
    run('materialize-incremental', now());
    expect(read()).toBeCloseTo(0.999, 5);
    const rolled = run('datasets', 'rollback', 'driver_stats', '--to', '1');
    expect(rolled.stdout).toBe('Rolled driver_stats back to snapshot 1 as snapshot 3 (840 rows, 1 files). Materialize to bring the views along.\n');
    expect(run('materialize-incremental', now()).stdout).toMatch(/driver_hourly_stats\s+done/);
    expect(await offline()).toBeCloseTo(before, 5);
    // Online, newer wins: the rolled-back row is newer than any left, so it stays until a newer one comes (README).
    expect(read()).toBeCloseTo(0.999, 5);
    expect(parse(run('datasets', 'describe', 'driver_stats').stdout).snapshots.map((s: { snapshot_id: number; rows: number }) => [s.snapshot_id, s.rows])).toEqual([[1, 840], [2, 841], [3, 840]]);
    expect(run('datasets', 'rollback', 'driver_stats', '--to', '7').stderr).toMatch(/^error \[SNAPSHOT_NOT_FOUND\]: dataset driver_stats has no snapshot 7/);
    expect(run('datasets', 'rollback', 'driver_stats', '--to', 'x').stderr).toMatch(/^error \[VALIDATION_FAILED\]: --to: must be a snapshot id/);
  });

  it('compacts small files into one snapshot with the same rows: training data is byte-identical, saved sets still verify, the merged files are still known', async () => {
    const small = [1, 2, 3].map((i) => {
      const file = join(dir, `small-${i}.csv`);
      const at = `2026-11-2${i}T0${i}:30:00Z`;
      writeFileSync(file, `driver_id,event_timestamp,created,conv_rate,acc_rate,avg_daily_trips\n100${i + 1},${at},${at},0.${i}11,0.9,${i}\n`);
      expect(run('ingest', 'driver_stats', file).status).toBe(0);
      return file;
    });
    expect(run('materialize-incremental', now()).status).toBe(0);
    const spine = join(dir, 'compaction-spine.csv');
    writeFileSync(spine, ['driver_id,event_timestamp', '1002,2026-11-21T02:00:00Z', '1003,2026-11-22T03:00:00Z', '1004,2026-11-23T04:00:00Z', `1001,${now()}`].join('\n'));
    const training = (out: string) => {
      expect(run('get-historical-features', '--feature-service', 'driver_activity', '--entities', spine, '--output', out).status).toBe(0);
      return readFileSync(out);
    };
    const before = training(join(dir, 'before-compaction.parquet'));
    const files = () => parse(run('datasets', 'describe', 'driver_stats').stdout).latest_snapshot.files as number;
    expect(files()).toBe(4);
    const compacted = run('datasets', 'compact', 'driver_stats');
    expect(compacted.stdout).toMatch(/^Compacted 4 files of driver_stats into 1 as snapshot (\d+) \(843 rows, 1 files\)\.\n$/);
    expect(files()).toBe(1);
    expect(run('materialize-incremental', now()).status).toBe(0);
    expect(training(join(dir, 'after-compaction.parquet')).equals(before)).toBe(true);
    expect(run('training-sets', 'verify', 'ranking').stdout).toMatch(/^Identical/);
    expect(run('ingest', 'driver_stats', small[1]).stdout).toMatch(/^Skipped small-2\.csv: the same bytes are already in snapshot \d+/);
    expect(run('datasets', 'compact', 'driver_stats').stdout).toBe('Nothing to compact: driver_stats has fewer than two small files added up to snapshot 7, which its views have consumed (--all takes the newer ones too).\n');
    // What a killed ingest leaves behind goes at the next gc; the compacted-away files stay (older snapshots hold them).
    writeFileSync(join(repo, '.featurelake/lake/datasets/driver_stats/data/killed-ingest.parquet'), 'left behind');
    // (The views' files the full recompute replaced are young too.)
    expect(run('gc').stdout).toMatch(/^Deleted 0 objects; \d+ unreferenced objects are younger than the grace period and stay\.\n$/);
    expect(run('gc', '--grace', '0', '--dry-run').stdout).toContain('would delete datasets/driver_stats/data/killed-ingest.parquet\n');
    // No retention declared: every snapshot stays, so of the dataset only the killed ingest's file goes; of the views, the manifests and files nothing reads.
    expect(run('gc', '--grace', '0').stdout).toMatch(/^Deleted \d+ objects \(datasets 1, views \d+\); 0 unreferenced objects are younger than the grace period and stay\.\n$/);
    expect(readdirSync(join(repo, '.featurelake/lake/datasets/driver_stats/data'))).not.toContain('killed-ingest.parquet');
    expect(run('training-sets', 'verify', 'ranking').stdout).toMatch(/^Identical/);
    expect(training(join(dir, 'after-gc.parquet')).equals(before)).toBe(true); // read from the views' remaining files
  });

  it('teardown says what it would remove and does nothing without --yes, then removes online keys and offline tables; materializing rebuilds them', () => {
    const refused = run('teardown');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^error \[CONFIRMATION_REQUIRED\]: teardown removes every online key of project ride_hailing .* Run it again with --yes/);
    const read = () => JSON.parse(run('get-online-features', '--features', 'driver_hourly_stats:conv_rate', '--entity', 'driver_id=1001', '--json').stdout).results[1].statuses[0];
    expect(read()).toBe('PRESENT');

    const torn = run('teardown', '--yes');
    expect(torn.status).toBe(0);
    // 5 drivers × 2 views, and one epoch marker per view.
    expect(torn.stdout).toMatch(/Tore down project ride_hailing: removed 12 online keys and the offline tables of 2 feature views \(\d+ lake objects\)/);
    expect(read()).toBe('NOT_FOUND');
    expect(run('datasets').stdout).toMatch(/driver_stats\s+\d+\s+843\s+1/); // the data stays
    expect(run('training-sets', 'verify', 'ranking').stdout).toMatch(/^Identical/); // and saved sets rebuild from it

    // The views start again from nothing: the next incremental run reads the whole dataset.
    expect(run('materialize-incremental', now()).stdout).toMatch(/driver_hourly_stats\s+done\s+\d+\s+beginning\s+\S+\s+843\s+843\s+5/);
    expect(read()).toBe('PRESENT');
    expect(run('teardown', '--yes').stdout).toContain('removed 12 online keys');
  });

  it('deletes a saved training set: gone for readers, its objects gone from the lake, the data it pinned kept', () => {
    const objects = () => readdirSync(join(repo, '.featurelake/lake/training-sets'));
    expect(objects()).toContain('ranking');
    expect(run('training-sets', 'delete', 'ranking').stdout).toBe('Deleted training set ranking (2 rows).\n');
    expect(run('training-sets', 'describe', 'ranking').stderr).toMatch(/^error \[TRAINING_SET_NOT_FOUND\]/);
    expect(run('training-sets', 'delete', 'ranking').stderr).toMatch(/^error \[TRAINING_SET_NOT_FOUND\]/);
    expect(readdirSync(join(repo, '.featurelake/lake/training-sets/ranking'))).toEqual([]);
    expect(parse(run('datasets', 'describe', 'driver_stats').stdout).snapshots[0]).toMatchObject({ snapshot_id: 1, rows: 840 });
  });

  function writeSpineAndSave(): void {
    const spine = join(dir, 'spine.csv');
    writeFileSync(spine, `driver_id,event_timestamp,label\n1001,${now()},1\n1002,${now()},0\n`);
    const saved = run('training-sets', 'save', 'ranking', '--feature-service', 'driver_activity', '--entities', spine);
    expect(saved.stdout).toMatch(/Saved training set ranking: 2 rows/);
  }
});
