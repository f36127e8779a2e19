import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { parseEntityRows } from '../core/entity-rows';
import { resolveSelectionCached, SelectionRequest } from '../core/feature-selection';
import { buildOnlineResponse, entityKeysFor, OnlineFeaturesResponse, writeOnlineResponseJson } from '../core/online-response';
import { OnlineRecord } from '../core/online-record';
import { EntityRows } from '../core/entity-rows';
import { FeatureSelection } from '../core/feature-selection';
import { Micros, nowMicros } from '../core/timestamp';
import { FeatureLogger } from '../monitoring/logging/feature-logger';
import { OnlineStore } from '../online-store/online-store';
import { RegistryService } from '../registry/registry.service';

export interface OnlineFeaturesRequest extends SelectionRequest {
  entities: Record<string, unknown>;
  /** Feast's include_feature_view_version_metadata: the selected views in the response's metadata. */
  includeViewMetadata?: boolean;
  /** The HTTP request id, recorded with a logged vector. */
  requestId?: string;
}

export type { OnlineFeaturesResponse };

/** Serves online feature vectors: resolve the request, one read from the online store, statuses by ttl. */
@Injectable()
export class OnlineFeaturesService {
  private readonly maxRows: { max: number; field: string };

  constructor(
    config: AppConfig,
    private readonly registry: RegistryService,
    private readonly store: OnlineStore,
    private readonly logger: FeatureLogger,
  ) {
    this.maxRows = { max: config.limits.maxOnlineRows, field: 'limits.max_online_rows' };
  }

  async get(request: OnlineFeaturesRequest): Promise<OnlineFeaturesResponse> {
    const { rows, selection, records, now } = await this.read(request);
    return buildOnlineResponse(rows, selection, records, now, { viewMetadata: request.includeViewMetadata });
  }

  /** The same answer as `get`, written straight to JSON text (the HTTP hot path). */
  async getJson(request: OnlineFeaturesRequest): Promise<string> {
    const { rows, selection, records, now } = await this.read(request);
    return writeOnlineResponseJson(rows, selection, records, now, { viewMetadata: request.includeViewMetadata });
  }

  /** Reads the vectors and hands the answer to feature logging (which only keeps a reference). */
  private async read(request: OnlineFeaturesRequest): Promise<{ rows: EntityRows; selection: FeatureSelection; records: (OnlineRecord | null)[][]; now: Micros }> {
    const catalog = await this.registry.catalog();
    const selection = resolveSelectionCached(catalog, request);
    const rows = parseEntityRows(request.entities, selection.joinKeys, { withTimestamps: false, maxRows: this.maxRows });
    const records = await this.store.read(
      catalog.project,
      selection.views.map(({ view }) => ({ view, entityKeys: entityKeysFor(rows, view.joinKeys.map((k) => k.name)) })),
    );
    const now = nowMicros();
    this.logger.record(catalog, request.featureService, selection, rows, records, now, request.requestId);
    return { rows, selection, records, now };
  }
}
