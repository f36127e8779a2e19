import { ObjectStore } from '../storage/object-store';
import { ViewManifest } from './view-manifest';

const VIEWS = 'views/';
const MANIFEST = /\/manifests\/(\d+)\.json$/;

export interface ViewGarbage {
  /** Manifests first (a reader never meets a manifest whose files are gone), then data files and sidecars. */
  deletable: string[];
  /** Unreferenced objects younger than the grace period: a task may be about to commit them. */
  young: number;
}

/**
 * What of the feature views' offline rows nothing reads any more, given the time before which
 * an object is old (now − grace). A view shape's manifests are kept while a reader may hold
 * one: the latest, and every one whose successor was committed after the cutoff (it was the
 * latest until then). Files referenced by no kept manifest (a compacted bucket's old files,
 * a killed task's upload) go once old themselves.
 */
export async function viewGarbage(store: ObjectStore, cutoffMs: number): Promise<ViewGarbage> {
  const deletable: string[] = [];
  let young = 0;
  for (const view of await store.listFolders(VIEWS)) {
    for (const shape of await store.listFolders(`${VIEWS}${view}/`)) {
      const objects = await store.listModified(`${VIEWS}${view}/${shape}/`);
      const manifests = objects.filter((o) => MANIFEST.test(o.key)).sort((a, b) => idOf(a.key) - idOf(b.key));
      const kept = manifests.filter((_m, i) => i === manifests.length - 1 || manifests[i + 1].modifiedMs > cutoffMs);
      const referenced = new Set<string>();
      for (const m of kept) {
        const body = await store.get(m.key);
        const manifest = body && (JSON.parse(body.toString('utf8')) as ViewManifest);
        for (const file of manifest?.bucketStates.flatMap((b) => b.files) ?? []) {
          referenced.add(file.key);
          if (file.replacesKey) referenced.add(file.replacesKey);
        }
      }
      const keptKeys = new Set(kept.map((m) => m.key));
      deletable.push(...manifests.filter((m) => !keptKeys.has(m.key)).map((m) => m.key));
      const files = objects.filter((o) => !MANIFEST.test(o.key) && !referenced.has(o.key));
      for (const file of files) {
        if (file.modifiedMs <= cutoffMs) deletable.push(file.key);
        else young++;
      }
    }
  }
  return { deletable, young };
}

function idOf(key: string): number {
  return Number(MANIFEST.exec(key)![1]);
}
