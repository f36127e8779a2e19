/**
 * The feature repo `featurelake init` writes: a project on the embedded defaults (a lake folder
 * and the embedded online store, both inside the repo's `.featurelake/`), definitions of one
 * entity, one dataset, a plain and a SQL feature view, a feature service and a push source, and
 * a week of hourly sample rows ending at the hour before `now`, so that the values it serves are
 * fresh. The sample rows are a function of `now` alone (no randomness): two inits an hour apart
 * differ only in their times.
 */
export interface ScaffoldFile {
  path: string;
  text: string;
}

const DRIVERS = [1001, 1002, 1003, 1004, 1005];
const HOURS = 7 * 24;

export function scaffold(project: string, now: Date): ScaffoldFile[] {
  return [
    { path: 'featurelake.yaml', text: projectFile(project) },
    { path: 'definitions.yaml', text: DEFINITIONS },
    { path: 'data/driver_stats.csv', text: sampleRows(now) },
    { path: '.gitignore', text: '.featurelake/\n' },
  ];
}

function projectFile(project: string): string {
  return `# featurelake project config (relative paths are relative to this folder).
project: ${project}
lake:
  uri: file://.featurelake/lake            # or s3://BUCKET/PREFIX with an s3: section
state_dir: .featurelake                    # scratch space and caches; nothing here is a source of truth
online:
  type: embedded                           # or: { type: redis, url: redis://127.0.0.1:6379 }
# maintenance: { every: 6h }               # compaction, snapshot retention and GC on a schedule (featurelake maintain)
`;
}

const DEFINITIONS = `entities:
  - name: driver
    join_keys: [driver_id]
    value_type: int64
    description: a driver of the ride-hailing fleet

datasets:
  - name: driver_stats
    timestamp_field: event_timestamp
    created_timestamp_field: created
    description: hourly statistics of each driver
    owner: you@example.com

feature_views:
  - name: driver_hourly_stats
    entities: [driver]
    source: driver_stats
    ttl: 1d
    description: the latest hourly statistics, straight from the dataset's columns
    tags: { team: driver_performance }
    features:
      - { name: conv_rate, type: float32, description: share of offers accepted and completed }
      - { name: acc_rate, type: float32 }
      - { name: avg_daily_trips, type: int64 }

  - name: driver_weekly_stats
    entities: [driver]
    source: driver_stats
    ttl: 2d
    lookback: 7d
    description: 7-day rolling means, computed by DuckDB SQL over the dataset
    sql: |
      SELECT driver_id, event_timestamp,
             avg(conv_rate) OVER week AS conv_rate_7d,
             avg(avg_daily_trips) OVER week AS trips_7d
      FROM driver_stats
      WINDOW week AS (PARTITION BY driver_id ORDER BY event_timestamp
                      RANGE BETWEEN INTERVAL 7 DAYS PRECEDING AND CURRENT ROW)
    features:
      - { name: conv_rate_7d, type: float64 }
      - { name: trips_7d, type: float64 }

feature_services:
  - name: driver_activity
    description: what the ranking model reads online
    features: [driver_hourly_stats, driver_weekly_stats:conv_rate_7d]

push_sources:
  - name: driver_stats_push
    dataset: driver_stats
`;

function sampleRows(now: Date): string {
  const lastHour = Math.floor(now.getTime() / 3_600_000) - 1;
  const lines = ['driver_id,event_timestamp,created,conv_rate,acc_rate,avg_daily_trips'];
  for (let h = lastHour - HOURS + 1; h <= lastHour; h++) {
    const at = new Date(h * 3_600_000).toISOString().replace('.000Z', 'Z');
    for (const [i, driver] of DRIVERS.entries()) {
      // Smooth, distinct curves per driver: something to see in a training set, nothing random.
      const wave = Math.sin((h + i * 5) / 6);
      const conv = (0.5 + 0.1 * i + 0.08 * wave).toFixed(4);
      const acc = (0.9 - 0.05 * i + 0.04 * Math.cos(h / 9)).toFixed(4);
      const trips = 200 + 100 * i + Math.round(40 * wave);
      lines.push(`${driver},${at},${at},${conv},${acc},${trips}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
