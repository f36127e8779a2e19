import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ObjectStore } from '../storage/object-store';
import { OnlineStore } from '../online-store/online-store';
import { RegistryService } from '../registry/registry.service';

export type HealthStatus = 'ok' | 'degraded';

/** One backend's answer to a health probe. */
export interface BackendHealth {
  ok: boolean;
  latency_ms: number;
  error?: string;
}

export interface HealthDetails {
  status: HealthStatus;
  project: string;
  registry_version: number | null;
  online_store: BackendHealth & { type: string };
  lake: BackendHealth & { location: string };
}

/**
 * Health of the serving tier. The public probe says only ok or degraded (it is what a load
 * balancer needs, and it names no path, bucket or address); the details need a key. Every
 * backend is asked with a deadline (`limits.health_timeout_ms`), so a probe answers in bounded
 * time even when a backend hangs or no Redis Cluster node is reachable. Serving depends on the
 * online store, so that decides the status; the lake is reported beside it.
 */
@Injectable()
export class HealthService {
  constructor(
    private readonly config: AppConfig,
    private readonly registry: RegistryService,
    private readonly store: ObjectStore,
    private readonly online: OnlineStore,
  ) {}

  async status(): Promise<HealthStatus> {
    return (await this.probe(() => this.online.ping())).ok ? 'ok' : 'degraded';
  }

  async details(): Promise<HealthDetails> {
    const [online, lake, catalog] = await Promise.all([
      this.probe(() => this.online.ping()),
      this.probe(() => this.store.ping()),
      this.registry.catalog().catch(() => null),
    ]);
    return {
      status: online.ok ? 'ok' : 'degraded',
      project: this.config.project,
      registry_version: catalog?.registry.version ?? null,
      online_store: { type: this.config.online.type, ...online },
      lake: { location: this.store.location, ...lake },
    };
  }

  private async probe(ask: () => Promise<void>): Promise<BackendHealth> {
    const started = performance.now();
    const timeoutMs = this.config.limits.healthTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms (limits.health_timeout_ms)`)), timeoutMs);
    });
    try {
      await Promise.race([ask(), deadline]);
      return { ok: true, latency_ms: elapsed(started) };
    } catch (error) {
      return { ok: false, latency_ms: elapsed(started), error: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(timer);
    }
  }
}

function elapsed(since: number): number {
  return Math.round((performance.now() - since) * 10) / 10;
}
