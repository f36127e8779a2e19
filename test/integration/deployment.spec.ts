import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { configEnv, loadConfig } from '../../src/config/load-config';

const ROOT = join(__dirname, '../..');

/** No Docker engine runs here, so the compose file is checked for what can be checked without one. */
describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, { environment?: Record<string, string>; build?: string; volumes?: string[] }>;
  };

  it('configures the service for MinIO and Redis in a way featurelake accepts', () => {
    const env = compose.services.featurelake.environment!;
    const config = loadConfig(join(ROOT, 'feature-repo'), configEnv(env));
    expect(config.lake).toMatchObject({ kind: 's3', bucket: 'featurelake', prefix: 'flights', endpoint: 'http://minio:9000', forcePathStyle: true });
    expect(config.online).toMatchObject({ type: 'redis', url: 'redis://redis:6379', cluster: false });
    expect(compose.services['minio-init'].environment!.LAKE_BUCKET).toBe(config.lake.kind === 's3' ? config.lake.bucket : '');
  });

  it('builds the service from the Dockerfile, whose entry point is the featurelake binary', () => {
    expect(compose.services.featurelake.build).toBe('.');
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "bin\/featurelake\.js"\]/);
    expect(dockerfile).toMatch(/CMD \["serve", "--host", "0\.0\.0\.0", "--port", "6566"\]/);
  });
});
