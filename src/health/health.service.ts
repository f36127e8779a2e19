import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ObjectStore } from '../lake/object-store';
import { OnlineStore } from '../online-store/online-store';
import { RegistryService } from '../registry/registry.service';

export interface HealthReport {
  status: 'ok' | 'degraded';
  project: string;
  registry_version: number | null;
  lake: string;
  online_store: { type: string; ok: boolean; error?: string };
}

@Injectable()
export class HealthService {
  constructor(
    private readonly config: AppConfig,
    private readonly registry: RegistryService,
    private readonly store: ObjectStore,
    private readonly online: OnlineStore,
  ) {}

  async check(): Promise<HealthReport> {
    const online = await this.online.ping().then(
      () => ({ type: this.config.online.type, ok: true }),
      (error: unknown) => ({ type: this.config.online.type, ok: false, error: error instanceof Error ? error.message : String(error) }),
    );
    const catalog = await this.registry.catalog().catch(() => null);
    return {
      status: online.ok ? 'ok' : 'degraded',
      project: this.config.project,
      registry_version: catalog?.registry.version ?? null,
      lake: this.store.location,
      online_store: online,
    };
  }
}
