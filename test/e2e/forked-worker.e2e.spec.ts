import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, cleanEnv, featurelake, stopServer, waitForHealth } from '../support/cli';
import { writeFile } from '../support/duckdb-files';
import { freePort } from '../support/free-port';
import { jobFinished, onlineScores, scoresRepo } from '../support/scores-repo';

const ENTITIES = 200_000;
const AT = '2026-03-01T00:00:00Z';
const score = (u: number) => ((u * 7) % 1000) / 10;

/** The pids of `pid`'s children (procps' pgrep). */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

/**
 * `serve` on the embedded defaults (no Redis): it forks a worker at a lower priority and hands
 * it every task and call over IPC, while it keeps the embedded online store (one DuckDB file,
 * one writer) and writes the worker's rows into it. A worker killed with -9 is started again
 * and its task runs again; the job still completes with online equal to offline.
 */
describe('serve forks a local worker on the embedded defaults', () => {
  let dir: string;
  let repo: string;
  let server: ChildProcess;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fl-forked-'));
    repo = scoresRepo(dir, 'forked', 'offline: { buckets: 8 }\nqueue: { ranges_per_view: 8, concurrency: 1 }\n');
    await writeFile(join(dir, 'events.parquet'), `SELECT range AS user_id, TIMESTAMP '2026-01-01' + to_seconds(range % 1000) AS ts, (range * 7 % 1000) / 10 AS score FROM range(${ENTITIES})`);
    expect(featurelake(repo, ['apply']).status).toBe(0);
    expect(featurelake(repo, ['ingest', 'events', join(dir, 'events.parquet')]).status).toBe(0);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, [BIN, '--repo', repo, 'serve', '--port', String(port)], { env: cleanEnv(), stdio: 'ignore' });
    await waitForHealth(url, server);
  }, 120_000);

  afterAll(async () => {
    const orphans = server ? childrenOf(server.pid!) : [];
    if (server?.exitCode === null && server.signalCode === null) await stopServer(server);
    for (const pid of orphans) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone with the server, as it should be
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (path: string, body: unknown) => fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  async function workerPid(): Promise<number> {
    for (let i = 0; i < 600; i++) {
      const [pid] = childrenOf(server.pid!);
      if (pid) return pid;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('serve forked no worker');
  }



  it('runs a job on the forked worker at a lower priority; one killed with -9 mid-job is replaced and the job completes', async () => {
    const first = await workerPid();
    const nice = Number(execFileSync('ps', ['-o', 'ni=', '-p', String(first)], { encoding: 'utf8' }).trim());
    expect(nice).toBeGreaterThan(0);
    const response = await post('/materialize-incremental?async=true', { end_ts: '2026-02-01T00:00:00Z' });
    expect(response.status).toBe(202);
    const { job_id: id } = (await response.json()) as { job_id: string };
    // Kill the worker once the job is part-way through its ranges.
    for (let i = 0; i < 3000; i++) {
      const job = (await (await fetch(`${url}/jobs/${id}`)).json()) as { progress: { fraction: number }; state: string };
      if (job.progress.fraction > 0.1 || job.state !== 'running' && job.state !== 'queued') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    process.kill(first, 'SIGKILL');
    const killedAt = Date.now();
    const job = await jobFinished(url, id);
    expect(job).toMatchObject({ state: 'succeeded', views: [{ name: 'scores', state: 'done' }] });
    expect(Date.parse(job.finished_at)).toBeGreaterThan(killedAt); // the kill came mid-job, not after it
    const second = await workerPid();
    expect(second).not.toBe(first);
    // Online equals offline: every entity's value, read by the server from the store it owns.
    const all = Array.from({ length: ENTITIES }, (_, u) => u).filter((u) => u % 997 === 0);
    expect(await onlineScores(url, all)).toEqual(all.map(score));
    const historical = await post('/get-historical-features', { features: ['scores:score'], entities: { user_id: all, event_timestamp: all.map(() => AT) } });
    expect(((await historical.json()) as { results: { values: unknown[] }[] }).results[2].values).toEqual(all.map(score));
  }, 180_000);

  it('runs uploads, training sets and HTTP ingests on the worker, with their files through the lake', async () => {
    const upload = await fetch(`${url}/get-historical-features/upload?features=scores:score&format=jsonl`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: `user_id,event_timestamp\n9,${AT}\n10,${AT}\n` });
    expect(upload.status).toBe(200);
    expect((await upload.text()).trim().split('\n').map((l) => JSON.parse(l).score)).toEqual([score(9), score(10)]);
    expect((await post('/training-sets', { name: 'forked', features: ['scores:score'], entities: { user_id: [1, 2], event_timestamp: [AT, AT] } })).status).toBe(201);
    expect(await (await post('/training-sets/forked/verify', {})).json()).toMatchObject({ identical: true, rows: 2 });
    const ingest = await fetch(`${url}/datasets/events/files`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: `{"user_id": ${ENTITIES + 1}, "ts": "2026-01-05T00:00:00", "score": 2.5}\n` });
    expect(ingest.status).toBe(201);
    expect(await (await fetch(`${url}/datasets/events`)).json()).toMatchObject({ latest: { row_count: ENTITIES + 1 } });
    // Nothing in transit is left behind in the lake.
    expect(execFileSync('find', [join(dir, 'lake'), '-path', '*scratch*', '-type', 'f'], { encoding: 'utf8' }).trim()).toBe('');
  }, 60_000);

  it('stops its worker when it stops; a worker whose server was killed with -9 exits by itself', async () => {
    const alive = (pid: number) => {
      try {
        return process.kill(pid, 0);
      } catch {
        return false;
      }
    };
    const gone = async (pid: number, ms: number) => {
      for (const until = Date.now() + ms; alive(pid) && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
      return !alive(pid);
    };
    const worker = await workerPid();
    await stopServer(server);
    expect(await gone(worker, 10_000)).toBe(true); // reaped a moment after the server went
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, [BIN, '--repo', repo, 'serve', '--port', String(port)], { env: cleanEnv(), stdio: 'ignore' });
    await waitForHealth(url, server);
    const orphan = await workerPid();
    server.kill('SIGKILL');
    expect(await gone(orphan, 30_000)).toBe(true); // generous: it stops its tasks first, and exits within 10 s regardless
  }, 90_000);
});
