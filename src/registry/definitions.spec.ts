import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FieldIssue, formatIssue } from '../common/field-reader';
import { parseDefinitionsFile } from './definitions-parser';
import { assembleDefinitions } from './definitions-validator';

function check(files: Record<string, string>): { issues: string[]; definitions: ReturnType<typeof assembleDefinitions> } {
  const issues: FieldIssue[] = [];
  const parsed = Object.entries(files).map(([name, text]) => parseDefinitionsFile(name, text, issues));
  const definitions = assembleDefinitions('p', parsed);
  return { issues: issues.map(formatIssue), definitions };
}

const BASE = `
entities:
  - name: airport
    join_keys: [airport]
    value_type: string
datasets:
  - name: flights
    timestamp_field: date
feature_views:
  - name: airport_daily
    entities: [airport]
    source: flights
    ttl: 2d
    sql: SELECT 1
    features:
      - { name: avg_delay, type: float64 }
`;

describe('feature repo definitions', () => {
  it('reads the example repo without a problem', () => {
    const text = readFileSync(join(__dirname, '../../feature-repo/flights.yaml'), 'utf8');
    const { issues, definitions } = check({ 'feature-repo/flights.yaml': text });
    expect(issues).toEqual([]);
    expect(definitions.featureViews.map((v) => [v.name, v.ttlSeconds])).toEqual([
      ['airport_conditions', 7200],
      ['airport_daily', 172800],
      ['airport_info', null],
      ['route_weekly', 1209600],
    ]);
    expect(definitions.entities.find((e) => e.name === 'route')?.joinKeys).toEqual([
      { name: 'origin', type: 'string' },
      { name: 'destination', type: 'string' },
    ]);
  });

  it('names the file, the field path and the line of each problem', () => {
    const { issues } = check({ 'feature-repo/flights.yaml': BASE.replace('ttl: 2d', 'ttl: 2x') });
    expect(issues).toEqual(['feature-repo/flights.yaml: feature_views[0].ttl: invalid duration "2x" (use a whole number followed by s, m, h, d or w, e.g. 2d) (line 13)']);
  });

  it.each([
    [BASE.replace('value_type: string', 'value_type: text'), /entities\[0\]\.value_type: unknown type "text"/],
    [BASE.replace('type: float64', 'type: decimal'), /feature_views\[0\]\.features\[0\]\.type: unknown type "decimal"/],
    [BASE.replace('entities: [airport]\n    source', 'entities: [nope]\n    source'), /feature_views\[0\]\.entities\[0\]: unknown entity "nope"/],
    [BASE.replace('source: flights', 'source: trains'), /feature_views\[0\]\.source: unknown dataset "trains"/],
    [BASE.replace('name: avg_delay', 'name: airport'), /features\[0\]\.name: airport is a join key or a reserved column name/],
    [BASE.replace('name: airport_daily', 'name: airport-daily'), /feature_views\[0\]\.name: "airport-daily" is not an identifier/],
    [BASE.replace('    ttl: 2d', '    tll: 2d'), /feature_views\[0\]\.tll: unknown field/],
    [BASE + 'feature_services:\n  - name: s\n    features: [airport_daily:nope]\n', /feature_services\[0\]\.features\[0\]: feature view airport_daily has no feature "nope"/],
    [BASE + 'feature_services:\n  - name: s\n    features: [trains]\n', /feature_services\[0\]\.features\[0\]: unknown feature view "trains"/],
    [BASE + 'surprise: 1\n', /flights\.yaml: surprise: unknown field/],
    [BASE.replace('    sql: SELECT 1\n', '').replace('timestamp_field: date', 'description: static'), /source: dataset flights has no timestamp_field/],
    ['entities: [', /invalid YAML/],
    [BASE.replace('    features:\n      - { name: avg_delay, type: float64 }\n', ''), /feature_views\[0\]\.features: is required/],
  ])('reports a problem in %#', (text, message) => {
    const { issues } = check({ 'flights.yaml': text });
    expect(issues.join('\n')).toMatch(message);
  });

  it.each([
    ['a YAML syntax error', 'entities:\n  - name: airport\n    join_keys: [airport\n'],
    ['a missing features list', BASE.replace('    features:\n      - { name: avg_delay, type: float64 }\n', '')],
    ['a missing join_keys', BASE.replace('    join_keys: [airport]\n', '')],
    ['an empty join_keys', BASE.replace('join_keys: [airport]', 'join_keys: []')],
    ['a missing entity name', BASE.replace('  - name: airport\n', '  - join_keys_: 1\n')],
    ['a section that is not a list', BASE + 'feature_services: 3\n'],
    ['a file that is not a mapping', '- just\n- a list\n'],
  ])('gives every problem a line: %s', (_case, text) => {
    const { issues } = check({ 'flights.yaml': text });
    expect(issues.length).toBeGreaterThan(0);
    for (const issue of issues) expect(issue).toMatch(/\(line \d+\)$/);
  });

  it('reports one bad ttl once: what refers to the view still finds it', () => {
    const services = 'feature_services:\n  - name: s\n    features: [airport_daily, airport_daily:avg_delay]\n';
    const skew = 'skew_checks:\n  - name: c\n    every: 1h\n    reference: { feature_view: { name: airport_daily } }\n    current: { feature_view: { name: airport_daily } }\n';
    const { issues } = check({ 'a.yaml': BASE.replace('ttl: 2d', 'ttl: 2x') + services + skew });
    expect(issues).toEqual([expect.stringMatching(/^a\.yaml: feature_views\[0\]\.ttl: invalid duration "2x"/)]);
  });

  it('reports a bad feature type once: services naming that feature still find it', () => {
    const services = 'feature_services:\n  - name: s\n    features: [airport_daily:avg_delay]\n';
    const { issues } = check({ 'a.yaml': BASE.replace('type: float64', 'type: decimal') + services });
    expect(issues).toEqual([expect.stringMatching(/features\[0\]\.type: unknown type "decimal"/)]);
  });

  it('refuses a name defined twice, naming where the first one is', () => {
    const { issues } = check({ 'a.yaml': BASE, 'b.yaml': 'entities:\n  - name: airport\n    join_keys: [airport]\n    value_type: string\n' });
    expect(issues).toEqual(['b.yaml: entities[0].name: entity airport is already defined at a.yaml: entities[0] (line 2)']);
  });

  it('refuses one join key with two types across entities', () => {
    const other = 'entities:\n  - name: gate\n    join_keys: [airport]\n    value_type: int64\n';
    const { issues } = check({ 'a.yaml': BASE, 'b.yaml': other });
    expect(issues.join('\n')).toMatch(/join key airport is int64 here but string in entity airport/);
  });

  it('checks push sources: a known dataset with an event time', () => {
    const text = BASE + 'push_sources:\n  - { name: live, dataset: trains }\n  - { name: live2, dataset: flights }\n';
    expect(check({ 'a.yaml': text }).issues).toEqual(['a.yaml: push_sources[0].dataset: unknown dataset "trains" (line 18)']);
    expect(check({ 'a.yaml': BASE.replace('    timestamp_field: date\n', '') + 'push_sources:\n  - { name: live, dataset: flights }\n' }).issues.join('\n')).toMatch(
      /push_sources\[0\]\.dataset: dataset flights has no timestamp_field/,
    );
  });

  it('reads the incremental mode of a view, entities by default', () => {
    expect(check({ 'a.yaml': BASE }).definitions.featureViews[0].incremental).toBe('entities');
    expect(check({ 'a.yaml': BASE.replace('ttl: 2d', 'ttl: 2d\n    incremental: full') }).definitions.featureViews[0].incremental).toBe('full');
    expect(check({ 'a.yaml': BASE.replace('ttl: 2d', 'ttl: 2d\n    incremental: sometimes') }).issues.join('\n')).toMatch(/incremental: must be entities or full/);
  });

  it('reads logging, drift overrides and skew checks, locating their problems', () => {
    const services = 'feature_services:\n  - name: s\n    features: [airport_daily]\n    logging: { sample_rate: 0.25 }\n';
    const skew = (body: string) => `skew_checks:\n  - name: c\n    every: 1h\n${body}`;
    const good = check({ 'a.yaml': BASE.replace('ttl: 2d', 'ttl: 2d\n    drift: { method: psi, threshold: 0.2 }') + services + skew('    current: { serving_logs: { feature_service: s, last: 1h } }\n') });
    expect(good.issues).toEqual([]);
    expect(good.definitions.featureServices[0].logging).toEqual({ sampleRate: 0.25 });
    expect(good.definitions.featureViews[0].drift).toEqual({ method: 'psi', threshold: 0.2 });
    expect(good.definitions.skewChecks).toEqual([{ name: 'c', everySeconds: 3600, spec: { current: { serving_logs: { feature_service: 's', last: '1h' } } }, description: undefined }]);
    const issues = (text: string) => check({ 'a.yaml': BASE + services + text }).issues.join('\n');
    expect(issues(skew('    current: { serving_logs: { feature_service: nope } }\n'))).toMatch(/skew_checks\[0\]\.current\.serving_logs\.feature_service: unknown feature service "nope"/);
    expect(issues(skew('    current: { serving_logs: { feature_service: s, last: soon } }\n'))).toMatch(/skew_checks\[0\]\.current\.serving_logs\.last: must be a duration .*\(line 24\)/);
    expect(issues(skew('    current: { training_set: t }\n'))).toMatch(/skew_checks\[0\]\.reference: is required/);
    expect(issues('skew_checks:\n  - name: c\n    current: { serving_logs: { feature_service: s } }\n')).toMatch(/skew_checks\[0\]\.every: is required/);
    expect(check({ 'a.yaml': BASE.replace('ttl: 2d', 'ttl: 2d\n    drift: { method: guess }') }).issues.join('\n')).toMatch(/feature_views\[0\]\.drift\.method: must be one of ks, wasserstein/);
    expect(check({ 'a.yaml': BASE + services.replace('0.25', '2') }).issues.join('\n')).toMatch(/feature_services\[0\]\.logging\.sample_rate: must be a number from 0 to 1/);
  });

  it('reports a missing source once', () => {
    expect(check({ 'a.yaml': BASE.replace('    source: flights\n', '') }).issues).toEqual([expect.stringMatching(/feature_views\[0\]\.source: is required \(line 10\)$/)]);
  });

  it('keeps description, tags and owner on every definition, and refuses a tag that is not text', () => {
    const meta = '\n    description: d\n    owner: risk@example.com\n    tags: { team: risk, tier: "1" }';
    const text = BASE.replace('value_type: string', `value_type: string${meta}`)
      .replace('timestamp_field: date', `timestamp_field: date${meta}`)
      .replace('ttl: 2d', `ttl: 2d${meta}`)
      .replace('{ name: avg_delay, type: float64 }', '{ name: avg_delay, type: float64, description: minutes, tags: { unit: min } }') +
      `feature_services:\n  - name: s\n    features: [airport_daily]${meta}\npush_sources:\n  - name: p\n    dataset: flights${meta}\n`;
    const { issues, definitions } = check({ 'a.yaml': text });
    expect(issues).toEqual([]);
    const expected = { description: 'd', owner: 'risk@example.com', tags: { team: 'risk', tier: '1' } };
    for (const def of [definitions.entities[0], definitions.datasets[0], definitions.featureViews[0], definitions.featureServices[0], definitions.pushSources[0]]) {
      expect(def).toMatchObject(expected);
    }
    expect(definitions.featureViews[0].features[0]).toEqual({ name: 'avg_delay', type: 'float64', description: 'minutes', tags: { unit: 'min' } });
    expect(check({ 'a.yaml': BASE.replace('ttl: 2d', 'ttl: 2d\n    tags: { tier: 1 }') }).issues).toEqual([
      expect.stringMatching(/feature_views\[0\]\.tags\.tier: must be a string \(quote it: tier: "1"\), got 1 \(line 14\)/),
    ]);
  });

  it('reads dataset expectations as the repo declares them', () => {
    // A function replacement: the regex's `$'` would be a replacement pattern in a string.
    const text = BASE.replace('timestamp_field: date', () => `timestamp_field: date
    expectations:
      on_violation: quarantine
      columns:
        price:  { not_null: true, min: 0, max_null_rate: 0.01 }
        symbol: { not_null: true, regex: '^[A-Z]{1,6}$', allowed: [AAPL, MSFT], max_length: 6 }
      unique: [symbol, date]
      rows: { min: 1, max: 1000000 }`);
    const { issues, definitions } = check({ 'a.yaml': text });
    expect(issues).toEqual([]);
    expect(definitions.datasets[0].expectations).toEqual({
      onViolation: 'quarantine',
      columns: [
        { column: 'price', rules: { notNull: true, min: 0, maxNullRate: 0.01 } },
        { column: 'symbol', rules: { notNull: true, regex: '^[A-Z]{1,6}$', allowed: ['AAPL', 'MSFT'], maxLength: 6 } },
      ],
      unique: ['symbol', 'date'],
      rows: { min: 1, max: 1000000 },
    });
    const minimal = check({ 'a.yaml': BASE.replace('timestamp_field: date', 'timestamp_field: date\n    expectations: { columns: { price: { min: 0 } } }') });
    expect(minimal.definitions.datasets[0].expectations).toEqual({ onViolation: 'reject', columns: [{ column: 'price', rules: { min: 0 } }] });
  });

  it.each([
    ['on_violation: drop, rows: { min: 1 }', /expectations\.on_violation: must be one of reject, quarantine, warn, got "drop" \(line 9\)/],
    ["columns: { price: { regex: '[' } }", /expectations\.columns\.price\.regex: is not a regular expression: .* \(line 9\)/],
    ['columns: { price: { allowed: [] } }', /expectations\.columns\.price\.allowed: must be a non-empty list/],
    ['columns: { price: { max_null_rate: 2 } }', /expectations\.columns\.price\.max_null_rate: must be a number from 0 to 1, got 2/],
    ['columns: { price: { max_length: 0 } }', /expectations\.columns\.price\.max_length: must be a whole number of characters/],
    ['columns: { price: { minimum: 0 } }', /expectations\.columns\.price\.minimum: unknown field \(allowed: not_null, min, max/],
    ['columns: { price: 3 }', /expectations\.columns\.price: must be a mapping of fields, got 3/],
    ['columns: { price: { min: [1] } }', /expectations\.columns\.price\.min: must be a number \(or a time or text, quoted\)/],
    ['rows: { min: 5, max: 2 }', /expectations\.rows\.min: min \(5\) is above max \(2\)/],
    ['unique: []', /expectations\.unique: must name at least one column/],
    ['columns: { price: {} }', /expectations\.columns\.price: declares no rule \(use not_null, min/],
    ['{}', /datasets\[0\]\.expectations: declares no rule \(columns, unique or rows\) \(line 9\)/],
  ])('locates a bad expectation: %s', (yaml, message) => {
    const text = BASE.replace('timestamp_field: date', `timestamp_field: date\n    expectations: ${yaml.startsWith('{') ? yaml : `{ ${yaml} }`}`);
    const { issues } = check({ 'a.yaml': text });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(message);
  });

  it('reads retention of a dataset and of a feature service log', () => {
    const text = BASE.replace('timestamp_field: date', 'timestamp_field: date\n    retention: { keep_snapshots: 20, keep_for: 30d }') +
      'feature_services:\n  - name: svc\n    features: [airport_daily]\n    logging: { sample_rate: 1, retention: { keep_for: 0s } }\n';
    const { issues, definitions } = check({ 'a.yaml': text });
    expect(issues).toEqual([]);
    expect(definitions.datasets[0].retention).toEqual({ keepSnapshots: 20, keepForSeconds: 30 * 86_400 });
    expect(definitions.featureServices[0].logging).toEqual({ sampleRate: 1, retention: { keepForSeconds: 0 } });
  });

  it.each([
    ['{ keep_snapshots: 0 }', /datasets\[0\]\.retention\.keep_snapshots: must be a whole number of snapshots, 1 or more, got 0 \(line 9\)/],
    ['{ keep_for: 30 days }', /datasets\[0\]\.retention\.keep_for: invalid duration "30 days"/],
    ['{ keep: 3 }', /datasets\[0\]\.retention\.keep: unknown field \(allowed: keep_snapshots, keep_for\)/],
  ])('locates a bad retention: %s', (yaml, message) => {
    const { issues } = check({ 'a.yaml': BASE.replace('timestamp_field: date', `timestamp_field: date\n    retention: ${yaml}`) });
    expect(issues[0]).toMatch(message);
  });

  it('accepts join keys with a type each', () => {
    const text = 'entities:\n  - name: trip\n    join_keys: [{ name: city, type: string }, { name: zone, type: int32 }]\n';
    const { issues, definitions } = check({ 'a.yaml': text });
    expect(issues).toEqual([]);
    expect(definitions.entities[0].joinKeys).toEqual([{ name: 'city', type: 'string' }, { name: 'zone', type: 'int32' }]);
  });
});
