import { RegistryVersion } from '../core/definitions';
import { ManifestLog } from '../storage/manifest-log';
import { ObjectStore } from '../storage/object-store';

/**
 * Where applied registry versions live. Contract: versions are numbered 1, 2, …; `commit`
 * creates version latest+1 atomically (a concurrent apply never overwrites another); a stored
 * version never changes.
 */
export abstract class RegistryStore {
  abstract latest(): Promise<RegistryVersion | null>;
  abstract get(version: number): Promise<RegistryVersion | null>;
  abstract commit(build: (latest: RegistryVersion | null, version: number) => RegistryVersion): Promise<RegistryVersion>;
}

/** Registry versions as JSON manifests in the lake, so every replica shares them. */
export class LakeRegistryStore extends RegistryStore {
  private readonly log: ManifestLog<RegistryVersion>;

  constructor(store: ObjectStore) {
    super();
    this.log = new ManifestLog<RegistryVersion>(store, 'registry/versions/');
  }

  async latest(): Promise<RegistryVersion | null> {
    return (await this.log.latest())?.manifest ?? null;
  }

  async get(version: number): Promise<RegistryVersion | null> {
    return (await this.log.get(version))?.manifest ?? null;
  }

  async commit(build: (latest: RegistryVersion | null, version: number) => RegistryVersion): Promise<RegistryVersion> {
    return (await this.log.commit((latest, id) => build(latest?.manifest ?? null, id))).manifest;
  }
}
