import crypto from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import FilesystemStore from 's3rver/lib/stores/filesystem';
import { freePort } from './free-port';

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** Credentials s3rver accepts (it checks signatures against these). */
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
}

/**
 * s3rver on a free port: the S3 wire protocol over HTTP, driven through @aws-sdk/client-s3 like
 * AWS S3 or MinIO. s3rver predates S3's conditional writes, so a small middleware in front of it
 * gives `PUT` with `If-None-Match: *` the semantics AWS S3 and MinIO implement (412 when the
 * key exists, one winner among concurrent writers). Everything else is s3rver's own.
 */
/**
 * s3rver does not descend into a folder below a common prefix, so a "folder" whose objects all
 * sit deeper (datasets/flights/data/x.parquet under datasets/) is missing from a delimited
 * listing — unlike AWS S3 and MinIO. Delimited listings are derived from the full listing here.
 */
const listObjects = FilesystemStore.prototype.listObjects;
FilesystemStore.prototype.listObjects = async function (this: FilesystemStore, bucket, options) {
  const { delimiter, prefix = '', maxKeys = Infinity } = options;
  if (!delimiter) return listObjects.call(this, bucket, options);
  const all = await listObjects.call(this, bucket, { ...options, delimiter: '', maxKeys: Infinity });
  const commonPrefixes = new Set<string>();
  const objects = all.objects.filter((o) => {
    const at = o.key.slice(prefix.length).indexOf(delimiter);
    if (at !== -1) commonPrefixes.add(o.key.slice(0, prefix.length + at + 1));
    return at === -1;
  });
  return { objects: objects.slice(0, maxKeys), commonPrefixes: [...commonPrefixes].sort(), isTruncated: objects.length > maxKeys };
};

/**
 * s3rver seals ListObjectsV2 continuation tokens with DES, which Node 20's OpenSSL 3 no longer
 * offers: every truncated listing (more than 1,000 keys) fails with an internal error. Its tokens
 * only need to round-trip through s3rver itself, so for `des` alone the "cipher" here passes the
 * bytes through unchanged (opaque to the client, as S3's are); every other algorithm is Node's.
 */
const passThrough = () => ({ update: (data: string | Buffer) => Buffer.from(data as string), final: () => Buffer.alloc(0) });
const createCipheriv = crypto.createCipheriv;
const createDecipheriv = crypto.createDecipheriv;
(crypto as { createCipheriv: unknown }).createCipheriv = (algorithm: string, ...rest: unknown[]) =>
  algorithm === 'des' ? passThrough() : (createCipheriv as (...a: unknown[]) => unknown)(algorithm, ...rest);
(crypto as { createDecipheriv: unknown }).createDecipheriv = (algorithm: string, ...rest: unknown[]) =>
  algorithm === 'des' ? passThrough() : (createDecipheriv as (...a: unknown[]) => unknown)(algorithm, ...rest);

export async function startS3(bucket = 'featurelake-test'): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 'fl-s3-'));
  const port = await freePort();
  const server = new S3rver({ port, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket }] });
  server.middleware.unshift(conditionalPut());
  await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    stop: async () => {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

type Context = {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  status: number;
  body: unknown;
  type: string;
  store: { existsObject(bucket: string, key: string): Promise<boolean> };
};

function conditionalPut() {
  const locks = new Map<string, Promise<void>>();
  return async (ctx: Context, next: () => Promise<void>) => {
    if (ctx.method !== 'PUT' || ctx.headers['if-none-match'] !== '*') return next();
    const [, bucket, ...rest] = decodeURIComponent(ctx.path).split('/');
    const key = rest.join('/');
    const lockKey = `${bucket}/${key}`;
    const previous = locks.get(lockKey) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => (release = resolve));
    locks.set(lockKey, previous.then(() => current));
    await previous;
    try {
      if (await ctx.store.existsObject(bucket, key)) {
        ctx.status = 412;
        ctx.type = 'application/xml';
        ctx.body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>';
        return;
      }
      await next();
    } finally {
      release();
      if (locks.get(lockKey) === current) locks.delete(lockKey);
    }
  };
}
