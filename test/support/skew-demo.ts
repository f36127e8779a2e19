import { INestApplication } from '@nestjs/common';
import { createServer, Server } from 'node:http';
import { encodeEntityKey } from '../../src/core/entity-key';
import { OnlineStore } from '../../src/online-store/online-store';
import { RegistryService } from '../../src/registry/registry.service';
import { perturbOnline as perturb } from '../../scripts/lib/perturb-online';
import { freePort } from './free-port';

/**
 * Plays a streaming pipeline gone wrong: the online values of one feature get Gaussian noise
 * (σ = `sigmaShare` × the spread of the current values), written through the online store like
 * any writer would. The offline store keeps the true values. Returns the perturbed entity count.
 */
export async function perturbOnline(app: INestApplication, viewName: string, feature: string, keys: string[], sigmaShare: number, seed = 7): Promise<number> {
  const ports = { store: app.get(OnlineStore), catalog: await app.get(RegistryService).catalog(), encodeEntityKey };
  return perturb(ports, { viewName, feature, keys, sigmaShare, seed });
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
