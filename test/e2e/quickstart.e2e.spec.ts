import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv } from '../support/cli';

/** `npm run quickstart` as the README promises it: 3M real flights end to end on the embedded defaults. */
describe('quickstart', () => {
  let state: string;
  beforeAll(() => (state = mkdtempSync(join(tmpdir(), 'fl-quickstart-'))));
  afterAll(() => rmSync(state, { recursive: true, force: true }));

  /** Runs one of the README's scripts on the shared state folder; it must succeed without a word on stderr. */
  const runScript = (name: string): string => {
    const result = spawnSync(process.execPath, [join(__dirname, '../../scripts', name)], {
      encoding: 'utf8',
      env: { ...cleanEnv(), QUICKSTART_STATE_DIR: state },
      timeout: 180_000,
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    return result.stdout;
  };

  it('runs every step, and the online values equal the latest in-ttl offline values', () => {
    const out = runScript('quickstart.js');
    expect(out).toMatch(/Ingested 2,99\d,\d{3} rows into flights as snapshot 1/);
    expect(out).toMatch(/airport_daily\s+done\s+1\s+beginning\s+\S+\s+2,99\d,\d{3}\s+39,\d{3}\s+2\d\d\s/);
    const check = /online vs offline \(latest in-ttl values at .*\): (\d+)\/(\d+) values equal/.exec(out);
    expect(check).not.toBeNull();
    expect(check![1]).toBe(check![2]);
    expect(Number(check![2])).toBe(40);
    // Every served value of the five busiest airports is fresh: none of them is missing or too old.
    expect(out).not.toMatch(/OUTSIDE_MAX_AGE|NOT_FOUND/);
    expect(out).toContain('Wrote 100,000 rows');
    expect(out).toMatch(/Step timings[\s\S]*total\s+\d+\.\d\d s/);
  });

  it('then the skew demo flags avg_delay, and only avg_delay, for drift and for served values that differ from offline', () => {
    const out = runScript('skew-demo.js');
    expect(out).toMatch(/FAILED — consistency FAILED, distribution 1\/8 drifted, schema passed/);
    const rows = out.split('\n').filter((line) => /^\s+(airport_daily|route_weekly|airport_info):/.test(line));
    expect(rows).toHaveLength(8);
    for (const row of rows) {
      if (row.includes('airport_daily:avg_delay')) expect(row).toMatch(/wasserstein \S+\s+DRIFT\s+(19|20)\d\d\/2,?0\d\d/);
      else expect(row).toMatch(/\s+ok\s+0\/\d+\s+0\.0%/);
    }
    expect(existsSync(join(state, 'skew-report.html'))).toBe(true);
  });
});
