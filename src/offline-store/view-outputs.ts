import { FeatureViewNotMaterializedError, MaterializationFailedError } from '../common/errors';
import { ResolvedView } from '../core/catalog';
import { ManifestLog } from '../storage/manifest-log';
import { ObjectStore } from '../storage/object-store';
import { BucketState, emptyManifest, ViewFile, ViewManifest } from './view-manifest';
import { MergeInput } from './view-sql';

/**
 * Where each feature view shape's offline rows live in the lake:
 * `views/<view>/<fingerprint>/manifests/N.json` (the ManifestLog) and
 * `views/<view>/<fingerprint>/bucket=NN/<version>-<uuid>.parquet` (data files and sidecars).
 * A shape is addressed by its fingerprint, so a changed view starts empty and never reads rows
 * written for the old shape.
 */
const VIEWS = 'views/';
/** S3's DeleteObjects takes at most 1,000 keys. */
const DELETE_BATCH = 1000;

export class ViewOutputs {
  constructor(
    private readonly store: ObjectStore,
    /** Buckets of a view written for the first time (`offline.buckets`); later writes keep the manifest's. */
    readonly defaultBuckets: number,
  ) {}

  log(view: ResolvedView): ManifestLog<ViewManifest> {
    return new ManifestLog<ViewManifest>(this.store, `${this.prefix(view)}manifests/`);
  }

  async latest(view: ResolvedView): Promise<ViewManifest | null> {
    return (await this.log(view).latest())?.manifest ?? null;
  }

  /** The latest manifest, or a new empty one (the configured bucket count) for a view never written. */
  async current(view: ResolvedView, hashProbe: string): Promise<ViewManifest> {
    const latest = await this.latest(view);
    if (!latest) return emptyManifest(view.def.name, view.fingerprint, this.defaultBuckets, hashProbe);
    if (latest.hashProbe !== hashProbe) {
      throw new MaterializationFailedError(
        `feature view ${view.def.name}: its offline rows were placed in buckets by another build of DuckDB (hash probe ${latest.hashProbe}, now ${hashProbe}); materialize it in full again (featurelake materialize START END) after removing ${this.prefix(view)}`,
        { view: view.def.name },
      );
    }
    return latest;
  }

  /** The latest manifest; FEATURE_VIEW_NOT_MATERIALIZED when the view's shape has none. */
  async required(view: ResolvedView): Promise<ViewManifest> {
    const latest = await this.latest(view);
    if (!latest) {
      throw new FeatureViewNotMaterializedError(`feature view ${view.def.name} has no offline rows for its current definition: run featurelake materialize first`, { view: view.def.name });
    }
    return latest;
  }

  /** Commits on top of whatever is latest (the build retries after a lost race). */
  async commit(view: ResolvedView, hashProbe: string, build: (latest: ViewManifest) => ViewManifest): Promise<ViewManifest> {
    const entry = await this.log(view).commit((latest) => build(latest?.manifest ?? emptyManifest(view.def.name, view.fingerprint, this.defaultBuckets, hashProbe)));
    return entry.manifest;
  }

  fileKey(view: ResolvedView, bucket: number, version: number, id: string, sidecar = false): string {
    return `${this.prefix(view)}bucket=${String(bucket).padStart(3, '0')}/${version}-${id}${sidecar ? '.replaces' : ''}.parquet`;
  }

  /** Local paths of the buckets' files and sidecars, and their windows: what mergedRowsSql reads. */
  async mergeInput(states: { bucket: number; state: BucketState }[]): Promise<MergeInput> {
    const files = states.flatMap(({ state }) => state.files);
    const paths = await Promise.all(files.map((f) => this.store.localPath(f.key)));
    const sidecars = await Promise.all(files.filter((f) => f.replacesKey).map((f) => this.store.localPath(f.replacesKey!)));
    const windows = states.flatMap(({ bucket, state }) => state.windows.map((window) => ({ bucket, window })));
    return { files: paths, sidecars, windows };
  }

  async localPaths(files: ViewFile[], sidecars = false): Promise<string[]> {
    const keys = sidecars ? files.flatMap((f) => (f.replacesKey ? [f.replacesKey] : [])) : files.map((f) => f.key);
    return Promise.all(keys.map((k) => this.store.localPath(k)));
  }

  /**
   * Deletes everything under `views/`: manifests first, so that a reader (or a teardown killed
   * half-way) never meets a manifest whose files are gone; what is left is unreferenced files
   * that a teardown run again removes.
   */
  async dropAll(): Promise<{ views: number; objects: number }> {
    const keys = await this.store.list(VIEWS);
    const manifests = keys.filter((k) => k.includes('/manifests/'));
    const rest = keys.filter((k) => !k.includes('/manifests/'));
    for (const batch of [manifests, rest]) {
      for (let i = 0; i < batch.length; i += DELETE_BATCH) await this.store.delete(batch.slice(i, i + DELETE_BATCH));
    }
    return { views: new Set(keys.map((k) => k.split('/')[1])).size, objects: keys.length };
  }

  private prefix(view: ResolvedView): string {
    return `${VIEWS}${view.def.name}/${view.fingerprint}/`;
  }
}
