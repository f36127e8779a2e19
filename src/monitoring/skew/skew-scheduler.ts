import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { SkewCheckDef } from '../../core/definitions';
import { RegistryService } from '../../registry/registry.service';
import { SkewChecksService } from './skew-checks.service';

const TICK_MS = 1000;

/**
 * Runs the checks declared under `skew_checks:` every `every`, in the server (never in CLI
 * commands). Follows the registry: a check added, changed or removed by `apply` is picked up at
 * the next tick. Checks run one at a time; a run that fails is logged and retried next period.
 */
@Injectable()
export class SkewScheduler implements BeforeApplicationShutdown {
  private readonly logger = new Logger(SkewScheduler.name);
  private readonly lastRun = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private running: Promise<void> | null = null;

  constructor(
    private readonly registry: RegistryService,
    private readonly checks: SkewChecksService,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Starts the checks that are due; the first run of a check comes one period after it is first seen. */
  async tick(now = Date.now()): Promise<void> {
    if (this.running) return;
    const declared = await this.registry
      .catalog()
      .then((c) => c.registry.skewChecks ?? [])
      .catch(() => [] as SkewCheckDef[]);
    const due = declared.filter((check) => {
      const key = `${check.name}|${JSON.stringify(check.spec)}|${check.everySeconds}`;
      const last = this.lastRun.get(key);
      if (last === undefined) this.lastRun.set(key, now);
      return last !== undefined && now - last >= check.everySeconds * 1000;
    });
    if (due.length === 0) return;
    this.running = this.runAll(due, now).finally(() => (this.running = null));
    await this.running;
  }

  private async runAll(due: SkewCheckDef[], now: number): Promise<void> {
    for (const check of due) {
      this.lastRun.set(`${check.name}|${JSON.stringify(check.spec)}|${check.everySeconds}`, now);
      try {
        const result = await this.checks.runDeclared(check.name);
        this.logger.log(`skew check ${check.name}: ${result.status} (${result.id})`);
      } catch (error) {
        this.logger.error(`skew check ${check.name} could not run: ${(error as Error).message}`);
      }
    }
  }
}
