import { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLE_REPO } from '../support/app';
import { featurelake, startServer, stopServer, waitForHealth } from '../support/cli';
import { query } from '../support/duckdb-files';
import { freePort } from '../support/free-port';

interface LogLine {
  level: number;
  msg: string;
  reqId?: string;
  status?: number;
  route?: string;
  context?: string;
}

const CSV_HEAD = 'date,delay,distance,origin,destination\n';
const csvRows = (n: number, day: string) => Array.from({ length: n }, (_, i) => `${day}T0${i % 10}:00:00Z,${i % 30},500,ORD,LGA\n`).join('');

/** The server as operators run it: keys made by the CLI, JSON logs, metrics, config checked at boot, and a drain on SIGTERM. */
describe('operating the server process', () => {
  let dir: string;
  let repo: string;
  let server: ChildProcess | undefined;
  let url: string;
  let stdout = '';
  let stderr = '';
  const keys: Record<string, { key: string; digest: string }> = {};
  const logLines = (): LogLine[] => stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as LogLine);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fl-ops-'));
    repo = join(dir, 'feature-repo');
    mkdirSync(repo);
    copyFileSync(join(EXAMPLE_REPO, 'featurelake.yaml'), join(repo, 'featurelake.yaml'));
    copyFileSync(join(EXAMPLE_REPO, 'flights.yaml'), join(repo, 'flights.yaml'));
    expect(featurelake(repo, ['apply']).status).toBe(0);
    for (const role of ['reader', 'admin']) {
      const created = featurelake(repo, ['keys', 'create', '--name', `${role}_client`, '--role', role]);
      expect(created.status).toBe(0);
      const key = /key \(give it to the client; it is not stored anywhere\): (\S+)/.exec(created.stdout)![1];
      const digest = new RegExp(`FEATURELAKE_API_KEYS=${role}_client:${role}:([0-9a-f]{64})`).exec(created.stdout)![1];
      keys[role] = { key, digest };
    }
  });

  afterAll(async () => {
    if (server) await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to start on an invalid configuration, naming the problem', () => {
    const result = featurelake(repo, ['serve', '--port', '1'], { FEATURELAKE_API_KEYS: `ops:root:${'0'.repeat(64)}`, FEATURELAKE_LOG_LEVEL: 'loud' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('CONFIG_INVALID');
    expect(result.stderr).toMatch(/auth: FEATURELAKE_API_KEYS: entry 1 \("ops"\) must be NAME:ROLE:SHA256/);
    expect(result.stderr).toMatch(/log_level: must be one of fatal, error, warn, info, debug, trace, silent, got "loud"/);
  });

  it('starts with the keys `featurelake keys create` printed, and logs JSON lines with request ids', async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = startServer(repo, port, { FEATURELAKE_API_KEYS: Object.entries(keys).map(([role, k]) => `${role}_client:${role}:${k.digest}`).join(',') });
    server.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    server.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitForHealth(url, server);

    const anonymous = await fetch(`${url}/registry`, { headers: { 'x-request-id': 'trace-0001' } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('x-request-id')).toBe('trace-0001');
    const reader = await fetch(`${url}/registry`, { headers: { authorization: `Bearer ${keys.reader.key}` } });
    expect(reader.status).toBe(403);
    expect(reader.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const admin = await fetch(`${url}/registry`, { headers: { authorization: `Bearer ${keys.admin.key}` } });
    expect(admin.status).toBe(200);

    await new Promise((r) => setTimeout(r, 200));
    const lines = logLines(); // every line is JSON: parsing would throw otherwise
    expect(lines.find((l) => l.context === 'Server')?.msg).toContain(`serving project flights at ${url}`);
    expect(lines).toContainEqual(expect.objectContaining({ reqId: 'trace-0001', status: 401, route: '/registry', level: 40, msg: 'request finished' }));
    expect(lines.filter((l) => l.status === 403)).toHaveLength(1);
    expect(lines.filter((l) => l.status === 200 && l.route === '/registry')).toHaveLength(0); // successes log at debug only
  });

  it('exposes request latency per route, job figures, lake sizes and process figures on /metrics', async () => {
    const auth = { authorization: `Bearer ${keys.admin.key}` };
    const ingest = await fetch(`${url}/datasets/flights/files`, { method: 'POST', headers: { ...auth, 'content-type': 'text/csv' }, body: CSV_HEAD + csvRows(20, '2001-01-01') });
    expect(ingest.status).toBe(201);
    const job = await fetch(`${url}/materialize`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ start_ts: '2001-01-01', end_ts: '2001-01-05', feature_views: ['airport_daily'] }),
    });
    expect(job.status).toBe(200);
    const online = await fetch(`${url}/get-online-features`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.reader.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ features: ['airport_daily:avg_delay'], entities: { airport: ['ORD'] } }),
    });
    expect(online.status).toBe(200);
    const logged = await fetch(`${url}/get-online-features`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.reader.key}`, 'content-type': 'application/json', 'x-request-id': 'trace-logged-1' },
      body: JSON.stringify({ feature_service: 'delay_model', entities: { airport: ['ORD'], origin: ['ORD'], destination: ['LGA'] } }),
    });
    expect(logged.status).toBe(200);
    const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${keys.reader.key}` } })).text();
    expect(text).toMatch(/featurelake_http_request_duration_seconds_count\{method="POST",route="\/get-online-features",status="200"\} 2/);
    expect(text).toMatch(/featurelake_http_request_duration_seconds_count\{method="GET",route="\/registry",status="401"\} 1/);
    expect(text).toMatch(/featurelake_job_duration_seconds_count\{kind="materialize",state="succeeded"\} 1/);
    expect(text).toMatch(/featurelake_job_rows_written_total\{view="airport_daily",store="online"\} 1/);
    expect(text).toMatch(/featurelake_lake_dataset_rows\{dataset="flights"\} 20/);
    expect(text).toMatch(/featurelake_lake_dataset_bytes\{dataset="flights"\} [1-9]\d*/);
    expect(text).toMatch(/featurelake_process_resident_memory_bytes [1-9]/);
    expect(text).toMatch(/featurelake_auth_failures_total\{reason="missing"\} 1/);
  });

  it('on SIGTERM, refuses new connections but finishes the upload in flight, then exits 0 with it committed', async () => {
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const upload = httpRequest(`${url}/datasets/flights/files`, { method: 'POST', headers: { authorization: `Bearer ${keys.admin.key}`, 'content-type': 'text/csv' } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      upload.on('error', reject);
      upload.write(CSV_HEAD + csvRows(5, '2001-01-02'));
      // The rest arrives after the server was told to stop.
      setTimeout(() => {
        server!.kill('SIGTERM');
        setTimeout(() => {
          fetch(`${url}/health`).then(
            () => reject(new Error('a new connection was accepted while draining')),
            () => upload.end(csvRows(5, '2001-01-03')),
          );
        }, 300);
      }, 300);
    });
    const { status, body } = await answer;
    expect([status, JSON.parse(body).added]).toEqual([201, { files: 1, rows: 10 }]);
    const code = await new Promise<number | null>((resolve) => (server!.exitCode !== null ? resolve(server!.exitCode) : server!.once('exit', resolve)));
    server = undefined;
    expect(code).toBe(0);
    expect(logLines().map((l) => l.msg)).toContainEqual(expect.stringMatching(/^HTTP server drained in \d+ ms$/));
    expect(featurelake(repo, ['datasets']).stdout).toMatch(/flights\s+2\s+30\s+2\s/);
    // The served vector was logged (flushed on the way out) under the request's id.
    const logs = await query(`SELECT request_id FROM read_parquet('${join(dir, '.featurelake/lake/datasets')}/_log_delay_model_*/**/*.parquet')`);
    expect(logs.map((r) => r.request_id)).toEqual(['trace-logged-1']);
    for (const { key } of Object.values(keys)) expect(stdout + stderr).not.toContain(key);
  });
});
