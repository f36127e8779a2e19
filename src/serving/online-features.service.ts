import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { parseEntityRows } from '../core/entity-rows';
import { resolveSelectionCached, SelectionRequest } from '../core/feature-selection';
import { buildOnlineResponse, entityKeysFor, OnlineFeaturesResponse, writeOnlineResponseJson } from '../core/online-response';
import { OnlineRecord } from '../core/online-record';
import { EntityRows } from '../core/entity-rows';
import { FeatureSelection } from '../core/feature-selection';
import { nowMicros } from '../core/timestamp';
import { OnlineStore } from '../online-store/online-store';
import { RegistryService } from '../registry/registry.service';

export interface OnlineFeaturesRequest extends SelectionRequest {
  entities: Record<string, unknown>;
}

export type { OnlineFeaturesResponse };

/** Serves online feature vectors: resolve the request, one read from the online store, statuses by ttl. */
@Injectable()
export class OnlineFeaturesService {
  constructor(
    private readonly config: AppConfig,
    private readonly registry: RegistryService,
    private readonly store: OnlineStore,
  ) {}

  async get(request: OnlineFeaturesRequest): Promise<OnlineFeaturesResponse> {
    const { rows, selection, records } = await this.read(request);
    return buildOnlineResponse(rows, selection, records, nowMicros());
  }

  /** The same answer as `get`, written straight to JSON text (the HTTP hot path). */
  async getJson(request: OnlineFeaturesRequest): Promise<string> {
    const { rows, selection, records } = await this.read(request);
    return writeOnlineResponseJson(rows, selection, records, nowMicros());
  }

  private async read(request: OnlineFeaturesRequest): Promise<{ rows: EntityRows; selection: FeatureSelection; records: (OnlineRecord | null)[][] }> {
    const catalog = await this.registry.catalog();
    const selection = resolveSelectionCached(catalog, request);
    const rows = parseEntityRows(request.entities, selection.joinKeys, { withTimestamps: false, maxRows: this.config.limits.maxOnlineRows });
    const records = await this.store.read(
      catalog.project,
      selection.views.map(({ view }) => ({ view, entityKeys: entityKeysFor(rows, view.joinKeys.map((k) => k.name)) })),
    );
    return { rows, selection, records };
  }
}
