import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig } from '../config/app-config';
import { DocumentStore } from '../storage/document-store';
import { LocalObjectStore } from '../storage/local.object-store';
import { LakeMaintenance, MaintenanceReport } from './lake-maintenance';
import { MaintenanceSchedule } from './maintenance-schedule';

const EMPTY: MaintenanceReport = { compacted: [], compactedBuckets: [], expired: [{ dataset: 'events', snapshots: [1, 2] }], gc: { deleted: ['a', 'b', 'c'], young: 0, restored: [] }, failures: [] };

describe('MaintenanceSchedule', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'fl-schedule-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs one round per period however many processes check, and records what it did', async () => {
    const documents = new DocumentStore(new LocalObjectStore(dir));
    const runs: unknown[] = [];
    const maintenance = { run: async (options: unknown) => (runs.push(options), EMPTY) } as unknown as LakeMaintenance;
    const config = AppConfig.of({ maintenance: { everySeconds: 3600, graceSeconds: 120 } } as AppConfig);
    const schedules = [1, 2, 3].map(() => new MaintenanceSchedule(config, maintenance, documents, { scheduled: true }));
    const at = Date.parse('2026-12-04T10:20:00Z');

    const reports = await Promise.all(schedules.map((s) => s.tick(3600, at)));
    expect(reports.filter((r) => r !== null)).toHaveLength(1);
    expect(runs).toEqual([{ graceSeconds: 120 }]);
    expect(await schedules[0].tick(3600, at + 30 * 60_000)).toBeNull(); // the same period: done already
    expect(await schedules[1].tick(3600, at + 60 * 60_000)).not.toBeNull(); // the next one
    const record = await documents.get<Record<string, unknown>>('maintenance/rounds/2026-12-04T10-00-00-000Z.json');
    expect(record).toMatchObject({ period: '2026-12-04T10:00:00.000Z', summary: { expiredSnapshots: 2, deleted: 3, failures: [] } });
  });

  it('stays idle where it is not to run (a CLI command, a server whose worker runs it) and when no period is set', async () => {
    const documents = new DocumentStore(new LocalObjectStore(dir));
    const maintenance = { run: jest.fn() } as unknown as LakeMaintenance;
    new MaintenanceSchedule(AppConfig.of({ maintenance: { everySeconds: 1, graceSeconds: null } } as AppConfig), maintenance, documents, { scheduled: false }).onApplicationBootstrap();
    new MaintenanceSchedule(AppConfig.of({ maintenance: { everySeconds: null, graceSeconds: null } } as AppConfig), maintenance, documents, { scheduled: true }).onApplicationBootstrap();
    await new Promise((r) => setImmediate(r));
    expect(maintenance.run).not.toHaveBeenCalled();
  });
});
