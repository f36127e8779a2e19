import { InMemoryObjectStore } from '../../test/support/fakes';
import { AppConfig } from '../config/app-config';
import { FeatureRepoReader, RepoFile } from './feature-repo.reader';
import { DefinitionsBinding } from './definitions-binding';
import { RegistryService } from './registry.service';
import { LakeRegistryStore } from './registry.store';

const VIEW = `
entities: [{ name: airport, join_keys: [airport], value_type: string }]
datasets: [{ name: flights, timestamp_field: date }]
feature_views:
  - name: daily
    entities: [airport]
    source: flights
    ttl: 1d
    features: [{ name: delay, type: float64 }]
`;

describe('RegistryService (in-memory lake)', () => {
  let files: RepoFile[];
  let service: RegistryService;

  beforeEach(() => {
    files = [{ name: 'repo/a.yaml', text: VIEW }];
    const reader = { read: async () => files } as unknown as FeatureRepoReader;
    const config = AppConfig.of({ project: 'p', registryRefreshSeconds: 60 } as AppConfig);
    // No dataset has data here: every view is left for its first materialization to check.
    const binding = new DefinitionsBinding(async () => null, {} as never);
    service = new RegistryService(config, new LakeRegistryStore(new InMemoryObjectStore()), reader, binding);
  });

  it('has nothing to serve before the first apply', async () => {
    await expect(service.catalog()).rejects.toMatchObject({ code: 'REGISTRY_NOT_APPLIED' });
  });

  it('applies a new version only when the definitions changed', async () => {
    expect((await service.apply()).version.version).toBe(1);
    const again = await service.apply();
    expect(again).toMatchObject({ applied: false, version: { version: 1 } });
    files = [{ name: 'repo/a.yaml', text: VIEW.replace('ttl: 1d', 'ttl: 2d') }];
    const plan = await service.plan();
    expect(plan.changes).toEqual([{ kind: 'feature_view', name: 'daily', action: 'update', fields: ['ttlSeconds'] }]);
    expect(plan.unbound).toEqual([{ view: 'daily', dataset: 'flights' }]);
    const changed = await service.apply();
    expect(changed).toMatchObject({ applied: true, version: { version: 2 } });
    expect((await service.catalog()).view('daily').def.ttlSeconds).toBe(172800);
  });

  it('refuses an invalid repo, listing every problem, and applies nothing', async () => {
    files = [{ name: 'repo/a.yaml', text: VIEW.replace('ttl: 1d', 'ttl: soon').replace('float64', 'money') }];
    const error = (await service.apply().then(
      () => undefined,
      (e: unknown) => e,
    )) as { code: string; message: string; details: { issues: unknown[] } };
    expect(error).toMatchObject({ code: 'FEATURE_REPO_INVALID' });
    expect(error.details.issues).toHaveLength(2);
    expect(error.message).toMatch(/repo\/a\.yaml: feature_views\[0\]\.ttl: invalid duration "soon"/);
    await expect(service.catalog()).rejects.toMatchObject({ code: 'REGISTRY_NOT_APPLIED' });
  });
});
