#!/usr/bin/env node
'use strict';
/**
 * GC of `--objects` unreferenced objects on the S3 protocol (s3rver): a dataset whose snapshot
 * references `--live` files, beside the objects a killed ingest left (the same number of data
 * files GC must delete). Ours: `LakeGc.collect` with no grace (what `featurelake gc --grace 0`
 * runs), through the lake's S3 client. Baseline in the same run, on an identical copy: the
 * least any GC does with the AWS SDK — read the snapshot, list the data prefix, delete what it
 * does not reference in DeleteObjects batches of 1,000.
 *
 * Usage: npm run build && node bench/gc.js [--objects 10000] [--live 100] [--rounds 3]
 */
require('./lib/ts-require');
const { mkdtempSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } = require('@aws-sdk/client-s3');
const { startS3 } = require('../test/support/s3-server');
const { AppConfig } = require('../dist/config/app-config');
const { defaultLimits } = require('../dist/config/config-limits');
const { LakeGc } = require('../dist/maintenance/lake-gc');
const { DocumentStore } = require('../dist/storage/document-store');
const { S3ObjectStore } = require('../dist/storage/s3.object-store');
const { median } = require('./lib/load');

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback);
const OBJECTS = option('objects', 10_000);
const LIVE = option('live', 100);
const ROUNDS = option('rounds', 3);
const UPLOADS_AT_ONCE = 32;

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fl-bench-gc-'));
  const s3 = await startS3('bench');
  const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
  try {
    console.log(`machine: ${os.cpus().length} × ${os.cpus()[0].model}, Node ${process.version}`);
    console.log(`${OBJECTS.toLocaleString('en-US')} unreferenced objects beside ${LIVE} live files, on s3rver\n`);
    const ours = [];
    const baseline = [];
    for (let round = 0; round < ROUNDS; round++) {
      await seed(client, s3.bucket, `ours-${round}`);
      await seed(client, s3.bucket, `base-${round}`);
      ours.push(await timed(() => featurelakeGc(s3, `ours-${round}`, dir)));
      baseline.push(await timed(() => sdkGc(client, s3.bucket, `base-${round}`)));
      console.log(`round ${round + 1}: featurelake gc ${ours.at(-1).toFixed(2)} s | AWS SDK list + delete ${baseline.at(-1).toFixed(2)} s`);
    }
    const [a, b] = [median(ours), median(baseline)];
    console.log(`\nmedian: featurelake gc ${a.toFixed(2)} s (${Math.round(OBJECTS / a).toLocaleString('en-US')} objects/s) | SDK alone ${b.toFixed(2)} s | ratio ${(a / b).toFixed(2)}×`);
  } finally {
    client.destroy();
    await s3.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A lake under `prefix`: one snapshot of LIVE files, and OBJECTS data files no snapshot references. */
async function seed(client, bucket, prefix) {
  const live = Array.from({ length: LIVE }, (_, i) => `datasets/events/data/live-${i}.parquet`);
  const snapshot = { format: 1, dataset: 'events', snapshotId: 1, parentSnapshotId: null, committedAt: new Date().toISOString(), operation: 'append', schema: [], files: live.map((key) => ({ key, rows: 1, bytes: 1 })), rowCount: LIVE, timeRange: null, added: { files: LIVE, rows: LIVE } };
  const objects = [...live.map((key) => [key, 'x']), ...Array.from({ length: OBJECTS }, (_, i) => [`datasets/events/data/orphan-${i}.parquet`, 'x'])];
  objects.push(['datasets/events/snapshots/00000000000000000001.json', JSON.stringify(snapshot)]);
  for (let i = 0; i < objects.length; i += UPLOADS_AT_ONCE) {
    await Promise.all(objects.slice(i, i + UPLOADS_AT_ONCE).map(([key, body]) => client.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/${key}`, Body: body }))));
  }
}

async function featurelakeGc(s3, prefix, dir) {
  const lake = { kind: 's3', uri: `s3://${s3.bucket}/${prefix}`, bucket: s3.bucket, prefix, endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, timeoutMs: 30_000, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } };
  const store = new S3ObjectStore(lake, path.join(dir, 'cache'));
  try {
    const gc = new LakeGc(AppConfig.of({ limits: defaultLimits() }), store, new DocumentStore(store));
    const result = await gc.collect({ graceSeconds: 0 });
    if (result.deleted.length !== OBJECTS) throw new Error(`featurelake gc deleted ${result.deleted.length} objects, expected ${OBJECTS}`);
  } finally {
    store.destroy();
  }
}

async function sdkGc(client, bucket, prefix) {
  const body = await client.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}/datasets/events/snapshots/00000000000000000001.json` }));
  const live = new Set(JSON.parse(await body.Body.transformToString()).files.map((f) => `${prefix}/${f.key}`));
  const doomed = [];
  let token;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/datasets/events/data/`, ContinuationToken: token }));
    for (const item of page.Contents ?? []) if (!live.has(item.Key)) doomed.push(item.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  for (let i = 0; i < doomed.length; i += 1000) {
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: doomed.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }));
  }
  if (doomed.length !== OBJECTS) throw new Error(`the SDK baseline found ${doomed.length} objects, expected ${OBJECTS}`);
}

async function timed(work) {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
