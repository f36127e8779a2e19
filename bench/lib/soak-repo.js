'use strict';
/**
 * The soak benchmark's feature repo (bench/soak.js): `user` entities and
 *  - `batch`  (10 float64 features) from the lake dataset `events`, materialized again and again;
 *  - `live`   (10 float64 features) from the dataset `live`, fed by the push source `live_push`;
 *  - `prof1`…`prof3` (10 each) from the dataset `profile`, materialized once before the soak.
 * Services: `fs10` = batch (1 entity × 10 features), `fs50` = batch + live + prof1..3 (1 × 50).
 */
const { mkdirSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const { DuckDBInstance } = require('@duckdb/node-api');

const FEATURES = 10;

function writeSoakRepo(dir, { redisUrl, memoryLimit, extra = '' }) {
  const repo = path.join(dir, 'repo');
  mkdirSync(repo, { recursive: true });
  writeFileSync(
    path.join(repo, 'featurelake.yaml'),
    `project: soak\nlake:\n  uri: file://${dir}/lake\nstate_dir: ${dir}\n${memoryLimit ? `duckdb:\n  memory_limit: ${memoryLimit}\n` : ''}` +
      `online:\n  type: redis\n  url: "${redisUrl}"\n${extra}`,
  );
  const features = (prefix) => Array.from({ length: FEATURES }, (_, f) => `      - { name: ${prefix}${f}, type: float64 }`).join('\n');
  const view = (name, source, prefix) => `  - name: ${name}\n    entities: [user]\n    source: ${source}\n    ttl: 7d\n    features:\n${features(prefix)}`;
  writeFileSync(
    path.join(repo, 'soak.yaml'),
    `entities:\n  - name: user\n    join_keys: [user_id]\n    value_type: int64\n` +
      `datasets:\n  - name: events\n    timestamp_field: ts\n  - name: live\n    timestamp_field: ts\n  - name: profile\n    timestamp_field: ts\n` +
      `feature_views:\n${[view('batch', 'events', 'f'), view('live', 'live', 'p'), view('prof1', 'profile', 'a'), view('prof2', 'profile', 'b'), view('prof3', 'profile', 'c')].join('\n')}\n` +
      `push_sources:\n  - name: live_push\n    dataset: live\n` +
      `feature_services:\n  - name: fs10\n    features: [batch]\n  - name: fs50\n    features: [batch, live, prof1, prof2, prof3]\n`,
  );
  return repo;
}

/**
 * Writes the soak's Parquet files with DuckDB, on one thread (it runs beside the load generator).
 */
class SoakData {
  static async open() {
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    await c.run('SET threads = 1');
    return new SoakData(db, c);
  }

  constructor(db, c) {
    this.db = db;
    this.c = c;
  }

  /**
   * An `events` batch: `rows` rows for the users from `first` on (wrapping at `users`), all
   * stamped `ts`; f0 = `batch` (so a reader can tell which batch it sees), f1..f9 random.
   */
  async eventsBatch(file, { users, first, rows, batch, ts }) {
    const features = Array.from({ length: FEATURES - 1 }, (_, i) => `random() * 100 AS f${i + 1}`).join(', ');
    await this.c.run(
      `COPY (SELECT (range + ${first}) % ${users} AS user_id, TIMESTAMP '${iso(ts)}' AS ts, ${batch}::DOUBLE AS f0, ${features} FROM range(${rows}))
       TO '${file}' (FORMAT parquet, COMPRESSION snappy)`,
    );
  }

  /** `profile`: one row per user, stamped `ts`, three views' worth of random columns. */
  async profile(file, { users, ts }) {
    const cols = ['a', 'b', 'c'].flatMap((p) => Array.from({ length: FEATURES }, (_, i) => `random() * 100 AS ${p}${i}`)).join(', ');
    await this.c.run(`COPY (SELECT range AS user_id, TIMESTAMP '${iso(ts)}' AS ts, ${cols} FROM range(${users})) TO '${file}' (FORMAT parquet, COMPRESSION snappy)`);
  }

  close() {
    this.c.closeSync();
    this.db.closeSync();
  }
}

/** A Date as a DuckDB TIMESTAMP literal (UTC). */
function iso(date) {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

module.exports = { writeSoakRepo, SoakData, FEATURES };
