import { parseSkewSpec, resolveWindow } from './skew-spec';

describe('parseSkewSpec', () => {
  const logs = { serving_logs: { feature_service: 'delay_model', last: '1h' } };

  it('runs every check the sides allow, with Evidently-like defaults', () => {
    expect(parseSkewSpec({ current: logs })).toMatchObject({ checks: ['consistency'], consistencyThreshold: 0.01, driftShare: 0.5, nullRateThreshold: 0.1 });
    expect(parseSkewSpec({ reference: { training_set: 't' }, current: logs }).checks).toEqual(['consistency', 'distribution', 'schema']);
    expect(parseSkewSpec({ reference: { dataset: 'flights' }, current: { dataset: { name: 'flights', snapshot_id: 2 } } })).toMatchObject({
      checks: ['distribution', 'schema'],
      reference: { kind: 'dataset', name: 'flights' },
      current: { kind: 'dataset', name: 'flights', snapshotId: 2 },
    });
  });

  it.each([
    [{ current: { training_set: 't' } }, 'reference'],
    [{ current: logs, checks: ['consistency', 'drift'] }, 'checks[1]'],
    [{ reference: { training_set: 't' }, current: { training_set: 't' }, checks: ['consistency'] }, 'checks'],
    [{ current: { serving_logs: { feature_service: 'x', start: '2026-01-01', last: '1h' } } }, 'current.serving_logs.last'],
    [{ current: { serving_logs: { feature_service: 'x', start: '2026-01-02', end: '2026-01-01' } } }, 'current.serving_logs.start'],
    [{ current: { serving_logs: { service: 'x' } } }, 'current.serving_logs.service'],
    [{ current: { training_set: 't', dataset: 'd' } }, 'current'],
    [{ current: logs, webhook: 'ftp://x' }, 'webhook'],
    [{ current: logs, consistency_threshold: -1 }, 'consistency_threshold'],
    [{ current: logs, name: 'has space' }, 'name'],
    [{ current: logs, surprise: 1 }, 'surprise'],
  ])('rejects %j naming %s', (body, field) => {
    expect(() => parseSkewSpec(body)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED', details: { field } }));
  });

  it('ends a `last` window at the time the check runs', () => {
    const now = 10_000_000_000n;
    expect(resolveWindow({ lastSeconds: 60 }, now)).toEqual({ start: now - 60_000_000n, end: now });
    expect(resolveWindow({ end: 5n, lastSeconds: 1 }, now)).toEqual({ start: 5n - 1_000_000n, end: 5n });
    expect(resolveWindow({}, now)).toEqual({ start: undefined, end: undefined });
  });
});
