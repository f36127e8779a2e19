'use strict';
/** A feature repo for the serving and materialization benchmarks: `users` × 5 views × 10 float64 features. */
const { mkdirSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const { DuckDBInstance } = require('@duckdb/node-api');

const VIEWS = 5;
const FEATURES_PER_VIEW = 10;

function writeRepo(dir, { redisUrl, ttl = '7d', cluster = false }) {
  const repo = path.join(dir, 'repo');
  mkdirSync(repo, { recursive: true });
  const online = redisUrl ? `online:\n  type: redis\n  url: "${redisUrl}"\n${cluster ? '  cluster: true\n' : ''}` : 'online:\n  type: embedded\n';
  writeFileSync(path.join(repo, 'featurelake.yaml'), `project: bench\nlake:\n  uri: file://${dir}/lake\nstate_dir: ${dir}\n${online}`);
  const views = [];
  for (let v = 0; v < VIEWS; v++) {
    const features = Array.from({ length: FEATURES_PER_VIEW }, (_, f) => `      - { name: f${v * FEATURES_PER_VIEW + f}, type: float64 }`);
    views.push(`  - name: v${v + 1}\n    entities: [user]\n    source: events\n    ttl: ${ttl}\n    features:\n${features.join('\n')}`);
  }
  writeFileSync(
    path.join(repo, 'bench.yaml'),
    `entities:\n  - name: user\n    join_keys: [user_id]\n    value_type: int64\n` +
      `datasets:\n  - name: events\n    timestamp_field: ts\n` +
      `feature_views:\n${views.join('\n')}\n` +
      `feature_services:\n  - name: fs10\n    features: [v1]\n  - name: fs50\n    features: [v1, v2, v3, v4, v5]\n` +
      // The same 50 features with every served vector logged: the feature-logging cost scenario.
      `  - name: fs50_logged\n    features: [v1, v2, v3, v4, v5]\n    logging: { sample_rate: 1.0 }\n`,
  );
  return repo;
}

/** `users` rows of random features, stamped between an hour and a day ago (fresh for a 7d ttl). */
async function writeEvents(file, users, rowsPerUser = 1) {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const features = Array.from({ length: VIEWS * FEATURES_PER_VIEW }, (_, i) => `random() * 100 AS f${i}`).join(', ');
  await c.run(`SET threads = 2`);
  await c.run(
    `COPY (SELECT u.range AS user_id,
                  (now()::TIMESTAMP - INTERVAL 1 HOUR - to_seconds(r.range * 3600 + (u.range % 3600))) AS ts, ${features}
           FROM range(${users}) u, range(${rowsPerUser}) r)
     TO '${file}' (FORMAT parquet, COMPRESSION zstd)`,
  );
  c.closeSync();
  db.closeSync();
}

module.exports = { writeRepo, writeEvents, VIEWS, FEATURES_PER_VIEW };
