import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, readdir, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LakeUnavailableError, ObjectNotFoundError } from '../common/errors';
import { LakeLocation } from '../config/app-config';
import { assertSafeKey, ObjectStore } from './object-store';

type S3Location = Extract<LakeLocation, { kind: 's3' }>;

// The SDK version is pinned and supports Node 20; its notice about future releases needing Node 22
// would otherwise print on every CLI command that touches an S3 lake.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * The lake on S3 or any S3-compatible store (MinIO, path-style endpoints). Objects DuckDB must
 * read are copied into a local cache first, since DuckDB's httpfs extension cannot be installed
 * on machines without internet access.
 */
export class S3ObjectStore extends ObjectStore {
  readonly location: string;
  private readonly client: S3Client;

  constructor(
    private readonly lake: S3Location,
    private readonly cacheDir: string,
    private readonly onRequestError: (command: string) => void = () => undefined,
  ) {
    super();
    this.location = lake.uri;
    this.client = new S3Client({
      region: lake.region,
      endpoint: lake.endpoint,
      forcePathStyle: lake.forcePathStyle,
      credentials: lake.credentials,
      // Transient errors (5xx, throttling, timeouts, dropped connections) are retried with the
      // SDK's exponential backoff; a request that stalls is cut after timeoutMs rather than hanging.
      maxAttempts: ATTEMPTS,
      requestHandler: { requestTimeout: lake.timeoutMs, connectionTimeout: Math.ceil(lake.timeoutMs / 5), throwOnRequestTimeout: true },
      // Checksums only where S3 requires them: the newer default sends streamed uploads
      // aws-chunked, which many S3-compatible stores (s3rver, older MinIO, Ceph) store verbatim.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // The SDK's fallback logger is the console; failures reach the caller as LAKE_UNAVAILABLE instead.
      logger: QUIET,
    });
    this.countFailedAttempts();
  }

  /** Every failed attempt, retried or not, is reported (for /metrics); absent keys are not failures. */
  private countFailedAttempts(): void {
    this.client.middlewareStack.add(
      (next, context) => async (args) => {
        try {
          return await next(args);
        } catch (error) {
          if (!isExpected(error)) this.onRequestError(context.commandName ?? 'unknown');
          throw error;
        }
      },
      { step: 'deserialize', priority: 'high', name: 'featurelakeFailedAttempts' },
    );
  }

  async put(key: string, body: Buffer | string): Promise<void> {
    await this.call('put', key, () => this.client.send(new PutObjectCommand({ Bucket: this.lake.bucket, Key: this.key(key), Body: body })));
  }

  async putFile(key: string, path: string): Promise<void> {
    const { size } = await stat(path);
    // The SDK cannot retry a request whose body is a stream it has consumed, so a file upload is
    // retried here, with a fresh stream per attempt and the same backoff the SDK uses.
    await this.call('put', key, () =>
      retryTransient(() =>
        this.client.send(new PutObjectCommand({ Bucket: this.lake.bucket, Key: this.key(key), Body: createReadStream(path), ContentLength: size })),
      ),
    );
  }

  async putIfAbsent(key: string, body: Buffer | string): Promise<boolean> {
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.lake.bucket, Key: this.key(key), Body: body, IfNoneMatch: '*' }),
      );
      return true;
    } catch (error) {
      // 412: the object exists. 409: a concurrent conditional write to the same key is in flight.
      const status = (error as S3ServiceException).$metadata?.httpStatusCode;
      if (status === 412 || status === 409) return false;
      throw this.unavailable('put', key, error);
    }
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      // The SDK retries the request; a body cut off while it is read is retried here (a GET is idempotent).
      return await retryTransient(async () => {
        const out = await this.client.send(new GetObjectCommand({ Bucket: this.lake.bucket, Key: this.key(key) }));
        return Buffer.from(await out.Body!.transformToByteArray());
      });
    } catch (error) {
      if (isNotFound(error)) return null;
      throw this.unavailable('get', key, error);
    }
  }

  async read(key: string): Promise<Readable> {
    try {
      const out = await retryTransient(() => this.client.send(new GetObjectCommand({ Bucket: this.lake.bucket, Key: this.key(key) })));
      return out.Body as Readable;
    } catch (error) {
      if (isNotFound(error)) throw new ObjectNotFoundError(`the lake holds no object ${key}`, { key });
      throw this.unavailable('get', key, error);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.call('list', prefix, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.lake.bucket, Prefix: this.key(prefix), ContinuationToken: token })),
      );
      for (const item of page.Contents ?? []) if (item.Key) keys.push(this.unkey(item.Key));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  async listModified(prefix: string): Promise<{ key: string; modifiedMs: number }[]> {
    const items: { key: string; modifiedMs: number }[] = [];
    let token: string | undefined;
    do {
      const page = await this.call('list', prefix, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.lake.bucket, Prefix: this.key(prefix), ContinuationToken: token })),
      );
      for (const item of page.Contents ?? []) if (item.Key) items.push({ key: this.unkey(item.Key), modifiedMs: item.LastModified?.getTime() ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return items.sort((a, b) => a.key.localeCompare(b.key));
  }

  async listFolders(prefix: string): Promise<string[]> {
    const folders: string[] = [];
    const base = this.key(prefix.endsWith('/') ? prefix : `${prefix}/`);
    let token: string | undefined;
    do {
      const page = await this.call('list', prefix, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.lake.bucket, Prefix: base, Delimiter: '/', ContinuationToken: token })),
      );
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix) folders.push(p.Prefix.slice(base.length).replace(/\/$/, ''));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return folders.sort();
  }

  async delete(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000).map((key) => ({ Key: this.key(key) }));
      await this.call('delete', keys[i], () =>
        this.client.send(new DeleteObjectsCommand({ Bucket: this.lake.bucket, Delete: { Objects: batch, Quiet: true } })),
      );
    }
  }

  async localPath(key: string): Promise<string> {
    const target = join(this.cacheDir, this.lake.bucket, ...this.key(key).split('/'));
    if (await exists(target)) return target;
    await mkdir(dirname(target), { recursive: true });
    const temp = `${target}${PART_MARK}${process.pid}-${randomUUID()}`;
    try {
      const out = await this.call('get', key, () => this.client.send(new GetObjectCommand({ Bucket: this.lake.bucket, Key: this.key(key) })));
      await pipeline(out.Body as Readable, createWriteStream(temp));
      await rename(temp, target);
    } finally {
      await unlink(temp).catch(() => undefined);
    }
    return target;
  }

  /**
   * Removes partial downloads that processes which are gone left in the cache (a kill -9
   * mid-download); those of live processes are still being written. Returns how many.
   */
  async sweepPartials(): Promise<number> {
    let removed = 0;
    const walk = async (dir: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (isDeadPartial(entry.name)) {
          await unlink(path).catch(() => undefined);
          removed++;
        }
      }
    };
    await walk(this.cacheDir);
    return removed;
  }

  async size(key: string): Promise<number | null> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.lake.bucket, Key: this.key(key) }));
      return out.ContentLength ?? null;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw this.unavailable('head', key, error);
    }
  }

  /** A HEAD of a key that need not exist: a 404 proves the bucket answers and our credentials reach it. */
  async ping(): Promise<void> {
    await this.size('_health');
  }

  destroy(): void {
    this.client.destroy();
  }

  private key(key: string): string {
    if (key.replace(/\/+$/, '')) assertSafeKey(key.replace(/\/+$/, ''));
    return this.lake.prefix ? `${this.lake.prefix}/${key}` : key;
  }

  private unkey(fullKey: string): string {
    return this.lake.prefix ? fullKey.slice(this.lake.prefix.length + 1) : fullKey;
  }

  private async call<T>(op: string, key: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw this.unavailable(op, key, error);
    }
  }

  private unavailable(op: string, key: string, error: unknown): LakeUnavailableError {
    const reason = error instanceof Error ? error.message || error.name : String(error);
    return new LakeUnavailableError(`S3 ${op} of ${this.location}/${key} failed: ${reason}`);
  }
}

const QUIET = { trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const ATTEMPTS = 4;

/** Server errors, throttling, timeouts and dropped connections are worth another attempt; 4xx answers are not. */
function isTransient(error: unknown): boolean {
  const e = error as S3ServiceException & { code?: string; $retryable?: unknown };
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500 || status === 429;
  return e?.$retryable !== undefined || e?.name === 'TimeoutError' || /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT)$/.test(e?.code ?? '');
}

async function retryTransient<T>(send: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      if (attempt >= ATTEMPTS || !isTransient(error)) throw error;
      // Full jitter on an exponential base (100 ms, 200 ms, 400 ms), as the SDK's standard strategy does.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 100 * 2 ** (attempt - 1)));
    }
  }
}

/** Answers that are part of normal operation: an absent key, a lost conditional-write race. */
function isExpected(error: unknown): boolean {
  const status = (error as S3ServiceException)?.$metadata?.httpStatusCode;
  return isNotFound(error) || status === 412 || status === 409;
}

function isNotFound(error: unknown): boolean {
  const e = error as S3ServiceException;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

const PART_MARK = '.part-';

function isDeadPartial(name: string): boolean {
  const at = name.lastIndexOf(PART_MARK);
  if (at === -1) return false;
  const pid = Number(name.slice(at + PART_MARK.length).split('-')[0]);
  // Our own pid's partials may be downloads in flight (the sweep runs beside the first requests).
  if (!Number.isInteger(pid) || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'EPERM';
  }
}
