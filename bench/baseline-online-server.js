'use strict';
/**
 * The baseline of bench/online-serving.js: a bare Node `http` server with ioredis that does the
 * same work as featurelake's /get-online-features for the benchmark's requests — the same keys,
 * one MGET, the same record decoding and statuses, the same Feast JSON — and nothing else (no
 * framework, no validation). It reuses featurelake's pure core (dist/core) for the encoding.
 *
 * Usage: node bench/baseline-online-server.js PORT REDIS_URL PROJECT REGISTRY_JSON
 */
const http = require('node:http');
const { readFileSync } = require('node:fs');
const Redis = require('ioredis');
const { FeatureCatalog } = require('../dist/core/catalog');
const { resolveSelection } = require('../dist/core/feature-selection');
const { encodeEntityKey } = require('../dist/core/entity-key');
const { decodeRecord } = require('../dist/core/online-record');
const { fieldStatus } = require('../dist/core/online-status');
const { formatTimestamp, nowMicros } = require('../dist/core/timestamp');
const { toJsonValue } = require('../dist/core/value-types');
const { stringifyJson } = require('../dist/core/json');

const [port, redisUrl, project, registryFile] = process.argv.slice(2);
const catalog = new FeatureCatalog(JSON.parse(readFileSync(registryFile, 'utf8')));
const redis = new Redis(redisUrl);
const NO_TS = '1970-01-01T00:00:00Z';

async function handle(body) {
  const request = JSON.parse(body);
  const selection = resolveSelection(catalog, { featureService: request.feature_service, features: request.features });
  const keyName = selection.joinKeys[0].name;
  const ids = request.entities[keyName];
  const entityKeys = ids.map((id) => encodeEntityKey([BigInt(id)]));
  const keys = [];
  for (const { view } of selection.views) for (const k of entityKeys) keys.push(`fl:${project}:${view.def.name}:${view.fingerprint}:${k}`);
  const raw = await redis.mget(keys);
  const now = nowMicros();
  const results = [{ values: ids, statuses: ids.map(() => 'PRESENT'), event_timestamps: ids.map(() => NO_TS) }];
  selection.views.forEach(({ view }, v) => {
    const types = view.def.features.map((f) => f.type);
    const records = entityKeys.map((k, i) => (raw[v * ids.length + i] ? decodeRecord(k, raw[v * ids.length + i], types) : null));
    view.def.features.forEach((feature, f) => {
      const column = { values: [], statuses: [], event_timestamps: [] };
      for (const record of records) {
        const value = record ? record.values[f] : null;
        const status = fieldStatus(record ? record.eventTimestamp : null, value, view.def.ttlSeconds, now);
        column.values.push(status === 'PRESENT' ? toJsonValue(value, feature.type) : null);
        column.statuses.push(status);
        column.event_timestamps.push(record ? formatTimestamp(record.eventTimestamp) : NO_TS);
      }
      results.push(column);
    });
  });
  return stringifyJson({ metadata: { feature_names: [keyName, ...selection.columns.map((c) => c.name)] }, results });
}

http
  .createServer((req, res) => {
    if (req.method === 'GET') return res.end('{"status":"ok"}');
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () =>
      handle(Buffer.concat(chunks).toString('utf8')).then(
        (json) => res.writeHead(200, { 'content-type': 'application/json' }).end(json),
        (error) => res.writeHead(500).end(String(error)),
      ),
    );
  })
  .listen(Number(port), '127.0.0.1');
