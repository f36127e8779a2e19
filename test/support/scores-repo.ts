import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A feature repo in `dir` with one dataset (events) and one view (scores) keyed by user_id. */
export function scoresRepo(dir: string, project: string, config = ''): string {
  const repo = join(dir, 'repo');
  mkdirSync(repo);
  writeFileSync(join(repo, 'featurelake.yaml'), `project: ${project}\nlake:\n  uri: file://../lake\nstate_dir: ..\n${config}`);
  writeFileSync(
    join(repo, 'defs.yaml'),
    `entities: [{ name: user, join_keys: [user_id], value_type: int64 }]
datasets: [{ name: events, timestamp_field: ts }]
feature_views:
  - name: scores
    entities: [user]
    source: events
    features: [{ name: score, type: float64 }]
`,
  );
  return repo;
}
