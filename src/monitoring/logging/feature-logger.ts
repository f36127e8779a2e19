import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../../config/app-config';
import { FeatureCatalog } from '../../core/catalog';
import { EntityRows } from '../../core/entity-rows';
import { FeatureSelection } from '../../core/feature-selection';
import { OnlineRecord } from '../../core/online-record';
import { Micros } from '../../core/timestamp';
import { Metrics } from '../../metrics/metrics';
import { logShape, LogShape } from './feature-log';
import { LogBuffer } from './log-buffer';
import { LogSink } from './log-sink';

/**
 * Feature logging: the vectors served for feature services that declare `logging`, sampled per
 * request. `record` copies the served values into a compact columnar buffer (no I/O, a
 * microsecond or two); rows leave for the lake in batches — on a timer, when enough have
 * gathered, and before the application shuts down (nothing is lost on a graceful shutdown).
 * Memory is bounded: past `logBufferRows` rows waiting, requests are dropped and counted.
 */
@Injectable()
export class FeatureLogger implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(FeatureLogger.name);
  private readonly pending = new Map<string, LogBuffer>();
  private readonly shapes = new WeakMap<FeatureSelection, LogShape>();
  private buffered = 0;
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private flushQueued = false;
  private readonly loggedRows;
  private readonly droppedRows;
  private readonly bufferedGauge;
  private readonly failedFlushes;

  constructor(
    private readonly config: AppConfig,
    private readonly sink: LogSink,
    metrics: Metrics,
  ) {
    this.loggedRows = metrics.counter('featurelake_feature_log_rows_total', 'Served rows written to feature logs', ['feature_service']);
    this.droppedRows = metrics.counter('featurelake_feature_log_dropped_rows_total', 'Sampled rows dropped because the log buffer was full', ['feature_service']);
    this.bufferedGauge = metrics.gauge('featurelake_feature_log_buffered_rows', 'Logged rows waiting in memory to be flushed');
    this.failedFlushes = metrics.counter('featurelake_feature_log_failed_flushes_total', 'Flushes of the feature log that failed (rows are kept and retried)');
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), this.config.monitoring.logFlushSeconds * 1000);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** Keeps a served answer if its feature service logs and this request is in the sample. */
  record(
    catalog: FeatureCatalog,
    featureService: string | undefined,
    selection: FeatureSelection,
    rows: EntityRows,
    records: (OnlineRecord | null)[][],
    now: Micros,
    requestId?: string,
  ): void {
    if (featureService === undefined) return;
    const rate = catalog.featureService(featureService).logging?.sampleRate ?? 0;
    if (rate <= 0 || (rate < 1 && Math.random() >= rate)) return;
    if (this.buffered + rows.rowCount > this.config.monitoring.logBufferRows) {
      this.droppedRows.inc({ feature_service: featureService }, rows.rowCount);
      return;
    }
    const shape = this.shapeOf(featureService, selection);
    let buffer = this.pending.get(shape.dataset.name);
    if (!buffer) {
      buffer = new LogBuffer(shape);
      this.pending.set(shape.dataset.name, buffer);
    }
    buffer.add(requestId ?? randomUUID(), now, rows, records);
    this.buffered += rows.rowCount;
    this.bufferedGauge.set(this.buffered);
    if (this.buffered >= this.config.monitoring.logFlushRows) void this.flush();
  }

  /** Writes everything recorded so far to the lake; resolves when it is there (or kept for retry). */
  flush(): Promise<void> {
    if (this.flushQueued) return this.flushing;
    this.flushQueued = true;
    this.flushing = this.flushing.then(async () => {
      this.flushQueued = false;
      await this.flushNow();
    });
    return this.flushing;
  }

  private async flushNow(): Promise<void> {
    const buffers = [...this.pending.values()];
    this.pending.clear();
    for (const buffer of buffers) {
      try {
        await this.sink.append(buffer.shape, buffer.chunks);
        this.loggedRows.inc({ feature_service: buffer.shape.service }, buffer.rows);
        this.buffered -= buffer.rows;
      } catch (error) {
        // The lake may be briefly unreachable: keep the rows (the buffer bound still holds) and retry next time.
        this.failedFlushes.inc();
        this.logger.error(`feature log of ${buffer.shape.service} not written (${buffer.rows} rows kept for retry): ${(error as Error).message}`);
        const newer = this.pending.get(buffer.shape.dataset.name);
        if (newer) {
          buffer.chunks.push(...newer.chunks);
          buffer.rows += newer.rows;
        }
        this.pending.set(buffer.shape.dataset.name, buffer);
      }
    }
    this.bufferedGauge.set(this.buffered);
  }

  private shapeOf(service: string, selection: FeatureSelection): LogShape {
    let shape = this.shapes.get(selection);
    if (!shape) {
      shape = logShape(service, selection);
      this.shapes.set(selection, shape);
    }
    return shape;
  }
}
