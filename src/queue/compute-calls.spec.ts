import { AppConfig } from '../config/app-config';
import { defaultLimits } from '../config/config-limits';
import { ComputeCalls } from './compute-calls';
import { JobQueue } from './job-queue';

/** Only what ComputeCalls asks of its queue. */
function queueWith(spreadsParts: boolean, workers: () => Promise<number>): JobQueue {
  return { spreadsParts, workers, handleCalls: () => undefined } as unknown as JobQueue;
}

const config = AppConfig.of({ limits: defaultLimits() } as AppConfig);

describe('ComputeCalls.partsWorthRunning', () => {
  it('splits one piece of work into one part per connected worker, at most the maximum', async () => {
    expect(await new ComputeCalls(queueWith(true, async () => 3), config).partsWorthRunning(4)).toBe(3);
    expect(await new ComputeCalls(queueWith(true, async () => 9), config).partsWorthRunning(4)).toBe(4);
  });

  it('does not split where parts cannot spread, no worker shows, or the queue does not answer', async () => {
    expect(await new ComputeCalls(queueWith(false, async () => 5), config).partsWorthRunning(4)).toBe(1);
    expect(await new ComputeCalls(queueWith(true, async () => 0), config).partsWorthRunning(4)).toBe(1);
    expect(await new ComputeCalls(queueWith(true, () => Promise.reject(new Error('down'))), config).partsWorthRunning(4)).toBe(1);
  });
});
