import { INestApplication } from '@nestjs/common';
import { createServer, Server } from 'node:http';
import { encodeEntityKey } from '../../src/core/entity-key';
import { OnlineStore } from '../../src/online-store/online-store';
import { RegistryService } from '../../src/registry/registry.service';
import { freePort } from './free-port';

/** Deterministic standard normal draws (mulberry32 + Box-Muller), so a failing run can be replayed. */
export function gaussian(seed: number): () => number {
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

/**
 * Plays a streaming pipeline gone wrong: the online values of one feature get Gaussian noise
 * (σ = `sigmaShare` × the spread of the current values), written through the online store like
 * any writer would. The offline store keeps the true values. Returns the perturbed entity count.
 */
export async function perturbOnline(app: INestApplication, viewName: string, feature: string, keys: string[], sigmaShare: number, seed = 7): Promise<number> {
  const catalog = await app.get(RegistryService).catalog();
  const view = catalog.view(viewName);
  const store = app.get(OnlineStore);
  const [records] = await store.read(catalog.project, [{ view, entityKeys: keys.map((k) => encodeEntityKey([k])) }]);
  const index = view.def.features.findIndex((f) => f.name === feature);
  const found = records.filter((r): r is NonNullable<typeof r> => r !== null && typeof r.values[index] === 'number');
  const values = found.map((r) => r.values[index] as number);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sigma = sigmaShare * Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
  const noise = gaussian(seed);
  await store.write(catalog.project, view, found.map((r) => ({ ...r, values: r.values.map((v, i) => (i === index ? (v as number) + sigma * noise() : v)) })));
  return found.length;
}

/** A webhook receiver on localhost that keeps every JSON body it is sent. */
export async function startWebhookReceiver(): Promise<{ url: string; bodies: unknown[]; stop: () => Promise<void> }> {
  const bodies: unknown[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(204).end();
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${port}/hook`, bodies, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}
