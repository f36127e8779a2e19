import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SCORES_DEFS = `entities: [{ name: user, join_keys: [user_id], value_type: int64 }]
datasets: [{ name: events, timestamp_field: ts }]
feature_views:
  - name: scores
    entities: [user]
    source: events
    features: [{ name: score, type: float64 }]
`;

/** A feature repo in `dir` with one dataset (events) and one view (scores) keyed by user_id (or the definitions given). */
export function scoresRepo(dir: string, project: string, config = '', defs = SCORES_DEFS): string {
  const repo = join(dir, 'repo');
  mkdirSync(repo);
  writeFileSync(join(repo, 'featurelake.yaml'), `project: ${project}\nlake:\n  uri: file://../lake\nstate_dir: ..\n${config}`);
  writeFileSync(join(repo, 'defs.yaml'), defs);
  return repo;
}

/** Follows a job through GET /jobs/{id} until it ends (the server answers from the lake and the queue). */
export async function jobFinished(url: string, id: string): Promise<Record<string, any>> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const job = (await (await fetch(`${url}/jobs/${id}`)).json()) as Record<string, any>;
    if (!['queued', 'running'].includes(job.state)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} did not finish: ${JSON.stringify(job)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The online values of scores:score for `ids`, as the server at `url` answers them. */
export async function onlineScores(url: string, ids: number[]): Promise<unknown[]> {
  const response = await fetch(`${url}/get-online-features`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ features: ['scores:score'], entities: { user_id: ids } }) });
  const body = (await response.json()) as { results: { values: unknown[] }[] };
  return body.results[1].values;
}
