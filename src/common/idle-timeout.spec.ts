import { PassThrough } from 'node:stream';
import { idleTimeout, withIdleTimeout } from './idle-timeout';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('idle timeouts on request bodies', () => {
  it('fails with REQUEST_TIMEOUT when no data arrives for the idle time', async () => {
    const stream = idleTimeout(30);
    const failed = new Promise((resolve) => stream.on('error', resolve));
    stream.write('a');
    expect(await failed).toMatchObject({ code: 'REQUEST_TIMEOUT', status: 408 });
  });

  it('lets a slow body that keeps arriving through, then stops the clock at its end', async () => {
    const source = new PassThrough();
    const idle = withIdleTimeout(source, 40);
    const chunks: string[] = [];
    idle.on('data', (c: Buffer) => chunks.push(c.toString()));
    for (const part of ['a', 'b', 'c']) {
      source.write(part);
      await tick(25);
    }
    source.end();
    await tick(80);
    expect(chunks.join('')).toBe('abc');
    expect(idle.destroyed || idle.writableFinished).toBe(true);
  });

  it('stops the clock quietly when the client goes away mid-body (no error to nobody)', async () => {
    const source = new PassThrough();
    const idle = withIdleTimeout(source, 20);
    const errors: unknown[] = [];
    idle.on('error', (e) => errors.push(e));
    source.write('partial');
    source.destroy();
    await tick(60);
    expect(idle.destroyed).toBe(true);
    expect(errors).toEqual([]);
  });
});
