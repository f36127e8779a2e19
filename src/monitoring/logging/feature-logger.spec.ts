import { testCatalog, testDefinitions } from '../../../test/support/catalog';
import { CollectingLogSink } from '../../../test/support/fakes';
import { AppConfig } from '../../config/app-config';
import { encodeEntityKey } from '../../core/entity-key';
import { parseEntityRows } from '../../core/entity-rows';
import { resolveSelection } from '../../core/feature-selection';
import { nowMicros } from '../../core/timestamp';
import { Metrics } from '../../metrics/metrics';
import { logShape } from './feature-log';
import { FeatureLogger } from './feature-logger';
import { featureValues, LOG_CHUNK_ROWS, LogBuffer } from './log-buffer';

describe('FeatureLogger', () => {
  const definitions = testDefinitions();
  definitions.featureServices = [
    { name: 'all', features: ['zone_stats:demand'], logging: { sampleRate: 1 } },
    { name: 'half', features: ['zone_stats:demand'], logging: { sampleRate: 0.5 } },
    { name: 'quiet', features: ['zone_stats:demand'] },
  ];
  const catalog = testCatalog(definitions);
  const selection = resolveSelection(catalog, { featureService: 'all' });
  const now = nowMicros();
  const served = (n: number) => ({
    rows: parseEntityRows({ city: Array(n).fill('berlin'), zone: Array.from({ length: n }, (_, i) => i) }, selection.joinKeys, { withTimestamps: false, maxRows: { max: 1e6, field: 'limits.max_online_rows' } }),
    records: [Array.from({ length: n }, (_, i) => ({ entityKey: encodeEntityKey(['berlin', i])!, eventTimestamp: now, createdTimestamp: null, values: [i / 10] }))],
  });
  const setup = (monitoring: Partial<AppConfig['monitoring']> = {}) => {
    const sink = new CollectingLogSink();
    const metrics = new Metrics();
    const config = AppConfig.of({ monitoring: { logFlushSeconds: 3600, logFlushRows: 1000, logBufferRows: 1000, ...monitoring } } as AppConfig);
    return { sink, metrics, logger: new FeatureLogger(config, sink, metrics) };
  };
  const log = (logger: FeatureLogger, service: string | undefined, n: number) => {
    const { rows, records } = served(n);
    logger.record(catalog, service, resolveSelection(catalog, { featureService: service ?? 'all' }), rows, records, now);
  };

  it('keeps nothing for services without logging and everything at rate 1', async () => {
    const { sink, logger } = setup();
    log(logger, 'quiet', 5);
    log(logger, undefined, 5);
    log(logger, 'all', 3);
    await logger.flush();
    expect(sink.batches.map((b) => [b.shape.service, b.rows.length])).toEqual([['all', 3]]);
    expect(sink.batches[0].rows.map((r) => r.values[0])).toEqual([0, 0.1, 0.2]);
  });

  it('samples whole requests at the declared rate', async () => {
    const { sink, logger } = setup({ logBufferRows: 1e6, logFlushRows: 1e6 });
    for (let i = 0; i < 2000; i++) log(logger, 'half', 1);
    await logger.flush();
    const logged = sink.batches.reduce((n, b) => n + b.rows.length, 0);
    expect(logged).toBeGreaterThan(850); // binomial(2000, 0.5): ±150 is over 6 standard deviations
    expect(logged).toBeLessThan(1150);
  });

  it('flushes on its own once enough rows wait', async () => {
    const { sink, logger } = setup({ logFlushRows: 10 });
    log(logger, 'all', 4);
    expect(sink.batches).toHaveLength(0);
    log(logger, 'all', 6);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sink.batches.map((b) => b.rows.length)).toEqual([10]);
  });

  it('drops and counts requests past the buffer bound instead of growing', async () => {
    const { sink, logger, metrics } = setup({ logBufferRows: 5, logFlushRows: 100 });
    log(logger, 'all', 4);
    log(logger, 'all', 4);
    await logger.flush();
    expect(sink.batches.map((b) => b.rows.length)).toEqual([4]);
    expect(await metrics.text()).toContain('featurelake_feature_log_dropped_rows_total{feature_service="all"} 4');
  });

  it('keeps rows through a failed flush and writes them, in order, on the next', async () => {
    const { sink, logger } = setup();
    log(logger, 'all', 2);
    sink.failNext = 1;
    await logger.flush();
    expect(sink.batches).toHaveLength(0);
    log(logger, 'all', 3);
    await logger.flush();
    expect(sink.batches.map((b) => b.rows.map((r) => r.keys[1]))).toEqual([[0, 1, 0, 1, 2]]);
  });

  it('flushes what is left before the application shuts down', async () => {
    const { sink, logger } = setup();
    logger.onModuleInit();
    log(logger, 'all', 2);
    await logger.beforeApplicationShutdown();
    expect(sink.batches.map((b) => b.rows.length)).toEqual([2]);
  });

  it('buffers rows column by column in chunks of DuckDB vector size', () => {
    const buffer = new LogBuffer(logShape('all', selection));
    const { rows, records } = served(3000);
    buffer.add('r', now, rows, records);
    expect(buffer.rows).toBe(3000);
    expect(buffer.chunks.map((c) => c.rows)).toEqual([LOG_CHUNK_ROWS, 3000 - LOG_CHUNK_ROWS]);
    expect(featureValues(buffer.chunks[1], 0).slice(0, 2)).toEqual([204.8, 204.9]);
    expect(buffer.chunks[1].keys[1].slice(0, 2)).toEqual([2048, 2049]);
  });
});
