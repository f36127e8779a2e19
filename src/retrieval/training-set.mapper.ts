import { TrainingSetMetadata } from './training-set';

export function toTrainingSetBody(m: TrainingSetMetadata) {
  return {
    name: m.name,
    /** 2: times are UTC-aware; 1: saved before that, with naive Parquet timestamps. */
    format: m.format,
    description: m.description,
    project: m.project,
    created_at: m.createdAt,
    registry_version: m.registryVersion,
    features: m.features,
    full_feature_names: m.selection.fullFeatureNames,
    feature_service: m.selection.featureService,
    created_before_event: m.createdBeforeEvent,
    entity_source: m.entitySource,
    entity_rows: m.entityRows,
    sources: m.sources.map((s) => ({ feature_view: s.view, dataset: s.dataset, snapshot_id: s.snapshotId })),
    row_count: m.rowCount,
    schema: m.schema,
    data: m.data,
    parts: m.parts ?? 1,
    timings: { entity_rows_ms: m.timings.entityRowsMs, join_ms: m.timings.joinMs, upload_ms: m.timings.uploadMs, total_ms: m.timings.totalMs },
  };
}
