import { createServer, IncomingMessage, request, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

/**
 * An HTTP proxy in front of a real server (s3rver) that injects the faults a real object store
 * shows: `fail` answers 503 SlowDown to everything, `flaky` fails every other request, `hang`
 * accepts requests and never answers, `pass` forwards untouched.
 */
export type FaultMode = 'pass' | 'fail' | 'flaky' | 'hang';

export interface FaultyProxy {
  url: string;
  mode: FaultMode;
  /** Requests seen, and how many of them were failed or hung on purpose. */
  counts: { requests: number; faults: number };
  stop(): Promise<void>;
}

const SLOW_DOWN = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>';

export async function startFaultyProxy(target: string): Promise<FaultyProxy> {
  const upstream = new URL(target);
  const hung = new Set<ServerResponse>();
  const proxy: FaultyProxy = { url: '', mode: 'pass', counts: { requests: 0, faults: 0 }, stop: async () => undefined };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    proxy.counts.requests += 1;
    const fault = proxy.mode === 'fail' || proxy.mode === 'hang' || (proxy.mode === 'flaky' && proxy.counts.requests % 2 === 1);
    if (fault) proxy.counts.faults += 1;
    if (fault && proxy.mode === 'hang') {
      req.resume(); // swallow the body, answer nothing
      hung.add(res);
      res.on('close', () => hung.delete(res));
      return;
    }
    if (fault) {
      req.resume();
      req.on('end', () => res.writeHead(503, { 'content-type': 'application/xml' }).end(SLOW_DOWN));
      return;
    }
    const forward = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.stop = () =>
    new Promise<void>((resolve) => {
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
