'use strict';
/**
 * The skew demonstration's "streaming pipeline gone wrong", shared by `npm run demo:skew` and the
 * skew e2e test: one feature's online values get Gaussian noise (σ = `sigmaShare` × the spread of
 * the current values), written through the online store like any writer would. The offline store
 * keeps the true values. The caller passes the store, the catalog and the key encoder, because the
 * script runs the built app (dist/) and the test the TypeScript sources.
 */

/** Deterministic standard normal draws (mulberry32 + Box-Muller), so a run can be replayed. */
function gaussian(seed) {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** Returns how many entities' values were perturbed (those with a numeric value online). */
async function perturbOnline({ store, catalog, encodeEntityKey }, { viewName, feature, keys, sigmaShare = 1, seed = 7 }) {
  const view = catalog.view(viewName);
  const [records] = await store.read(catalog.project, [{ view, entityKeys: keys.map((k) => encodeEntityKey([k])) }]);
  const index = view.def.features.findIndex((f) => f.name === feature);
  const found = records.filter((r) => r !== null && typeof r.values[index] === 'number');
  const values = found.map((r) => r.values[index]);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sigma = sigmaShare * Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
  const noise = gaussian(seed);
  await store.write(catalog.project, view, found.map((r) => ({ ...r, values: r.values.map((v, i) => (i === index ? v + sigma * noise() : v)) })));
  return found.length;
}

module.exports = { perturbOnline };
