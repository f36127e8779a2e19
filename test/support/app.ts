import { INestApplication } from '@nestjs/common';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig } from '../../src/config/app-config';
import { ConfigEnv, loadConfig } from '../../src/config/load-config';
import { createHttpApp } from '../../src/http-app';
import { TestRedisCluster } from './redis-cluster';
import { TestRedis } from './redis-server';
import { TestS3 } from './s3-server';

export const EXAMPLE_REPO = join(__dirname, '../../feature-repo');
export const FLIGHTS_3M = join(__dirname, '../../node_modules/vega-datasets/data/flights-3m.parquet');
export const AIRPORTS_CSV = join(__dirname, '../../node_modules/vega-datasets/data/airports.csv');

export interface Backends {
  lake: 'local' | 's3';
  online: 'embedded' | 'redis' | 'redis-cluster';
}

/**
 * A copy of the example feature repo in a temp folder, configured for the given backends
 * through the documented environment variables (so those are exercised too).
 */
export function exampleRepo(
  backends: Backends,
  services: { s3?: TestS3; redis?: TestRedis; cluster?: TestRedisCluster },
  project = 'flights',
  extraEnv: ConfigEnv = {},
  /** More of featurelake.yaml (limits:, duckdb:, …), appended as written. */
  projectYaml = '',
): { dir: string; config: AppConfig } {
  const dir = mkdtempSync(join(tmpdir(), 'fl-e2e-'));
  const repo = join(dir, 'feature-repo');
  mkdirSync(repo);
  copyFileSync(join(EXAMPLE_REPO, 'flights.yaml'), join(repo, 'flights.yaml'));
  writeFileSync(join(repo, 'featurelake.yaml'), `project: ${project}\nlake:\n  uri: file://../.featurelake/lake\n${projectYaml}`);
  const env: ConfigEnv = { FEATURELAKE_STATE_DIR: join(dir, '.featurelake') };
  if (backends.lake === 's3') {
    Object.assign(env, {
      FEATURELAKE_LAKE_URI: `s3://${services.s3!.bucket}/${project}-${process.pid}-${Date.now()}`,
      FEATURELAKE_S3_ENDPOINT: services.s3!.endpoint,
      AWS_ACCESS_KEY_ID: services.s3!.accessKeyId,
      AWS_SECRET_ACCESS_KEY: services.s3!.secretAccessKey,
    });
  }
  if (backends.online === 'redis') Object.assign(env, { FEATURELAKE_ONLINE_TYPE: 'redis', FEATURELAKE_REDIS_URL: services.redis!.url });
  if (backends.online === 'redis-cluster') {
    Object.assign(env, { FEATURELAKE_ONLINE_TYPE: 'redis', FEATURELAKE_REDIS_URL: services.cluster!.url, FEATURELAKE_REDIS_CLUSTER: 'true' });
  }
  return { dir, config: loadConfig(repo, { ...env, ...extraEnv }) };
}

export async function startApp(config: AppConfig): Promise<INestApplication> {
  return createHttpApp(config, { logger: false });
}

/** `dir/feature-repo` holding the example repo as it is (lake and state in `dir/.featurelake`), for tests that run the CLI. */
export function copyExampleRepo(dir: string): string {
  const repo = join(dir, 'feature-repo');
  mkdirSync(repo);
  copyFileSync(join(EXAMPLE_REPO, 'featurelake.yaml'), join(repo, 'featurelake.yaml'));
  copyFileSync(join(EXAMPLE_REPO, 'flights.yaml'), join(repo, 'flights.yaml'));
  return repo;
}
