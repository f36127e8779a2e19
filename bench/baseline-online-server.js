'use strict';
/**
 * The baseline of bench/online-serving.js: a bare Node `http` server with ioredis that does the
 * same work as featurelake's /get-online-features — the same keys, one MGET, the same record
 * decoding, statuses and Feast JSON, through featurelake's own pure core (dist/core) — with the
 * framework taken out (no NestJS, no Fastify, no DTO validation). The ratio therefore measures
 * what the HTTP layer and the service plumbing cost.
 *
 * Usage: node bench/baseline-online-server.js PORT REDIS_URL PROJECT REGISTRY_JSON
 */
const http = require('node:http');
const { readFileSync } = require('node:fs');
const Redis = require('ioredis');
const { FeatureCatalog } = require('../dist/core/catalog');
const { resolveSelectionCached } = require('../dist/core/feature-selection');
const { parseEntityRows } = require('../dist/core/entity-rows');
const { writeOnlineResponseJson, entityKeysFor } = require('../dist/core/online-response');
const { decodeRecord } = require('../dist/core/online-record');
const { nowMicros } = require('../dist/core/timestamp');

const [port, redisUrl, project, registryFile] = process.argv.slice(2);
const catalog = new FeatureCatalog(JSON.parse(readFileSync(registryFile, 'utf8')));
// The same client options as featurelake's Redis online store.
const redis = new Redis(redisUrl, { enableAutoPipelining: true });

/** featurelake's request path with the framework taken out: same core, same keys, one MGET. */
async function handle(body) {
  const request = JSON.parse(body);
  const selection = resolveSelectionCached(catalog, { featureService: request.feature_service, features: request.features, fullFeatureNames: request.full_feature_names });
  const rows = parseEntityRows(request.entities, selection.joinKeys, { withTimestamps: false, maxRows: 10000 });
  const keysByView = selection.views.map(({ view }) => entityKeysFor(rows, view.joinKeys.map((k) => k.name)));
  const keys = [];
  selection.views.forEach(({ view }, v) => {
    for (const k of keysByView[v]) if (k !== null) keys.push(`fl:${project}:${view.def.name}:${view.fingerprint}:${k}`);
  });
  const raw = await redis.mget(keys);
  let next = 0;
  const records = selection.views.map(({ view }, v) => {
    const types = view.def.features.map((f) => f.type);
    return keysByView[v].map((k) => {
      if (k === null) return null;
      const text = raw[next++];
      return text ? decodeRecord(k, text, types) : null;
    });
  });
  return writeOnlineResponseJson(rows, selection, records, nowMicros());
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
