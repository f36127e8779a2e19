/**
 * Every error the product reports on purpose is a DomainError with a stable `code`; clients
 * and tests match on the code, people read the message. The HTTP status lives with the class
 * so the one exception filter never needs a lookup table that can drift.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;

  constructor(
    message: string,
    public details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }

  /** Adds context known only higher up (e.g. the job an error ended). */
  withDetails(extra: Record<string, unknown>): this {
    this.details = { ...this.details, ...extra };
    return this;
  }
}

/**
 * Errors from the system beneath us that have a stable meaning of their own: a full disk is
 * STORAGE_FULL (507) naming the path, wherever it was hit. Anything else comes back unchanged.
 */
export function asDomainError(error: unknown): unknown {
  if (error instanceof DomainError) return error;
  const errno = error as NodeJS.ErrnoException | undefined;
  if (errno?.code === 'ENOSPC' || errno?.code === 'EDQUOT') {
    const where = errno.path ? ` writing ${errno.path}` : '';
    return new StorageFullError(`no space left on the device${where}; free disk space and try again (nothing was committed)`, { path: errno.path });
  }
  return error;
}

// 400: the request itself is wrong.
export class ValidationFailedError extends DomainError {
  readonly code = 'VALIDATION_FAILED';
  readonly status = 400;
}
export class MalformedJsonError extends DomainError {
  readonly code = 'MALFORMED_JSON';
  readonly status = 400;
}
export class InvalidTimestampError extends DomainError {
  readonly code = 'INVALID_TIMESTAMP';
  readonly status = 400;
}
export class InvalidFeatureRefError extends DomainError {
  readonly code = 'INVALID_FEATURE_REF';
  readonly status = 400;
}
export class EntityKeyError extends DomainError {
  readonly code = 'INVALID_ENTITY_KEYS';
  readonly status = 400;
}
export class EntityKeyTypeError extends DomainError {
  readonly code = 'ENTITY_KEY_TYPE_MISMATCH';
  readonly status = 400;
}
export class FeatureNameCollisionError extends DomainError {
  readonly code = 'FEATURE_NAME_COLLISION';
  readonly status = 400;
}
export class InvalidWindowError extends DomainError {
  readonly code = 'INVALID_WINDOW';
  readonly status = 400;
}

// 401/403: who is asking, and whether they may.
export class UnauthenticatedError extends DomainError {
  readonly code = 'UNAUTHENTICATED';
  readonly status = 401;
}
export class ForbiddenError extends DomainError {
  readonly code = 'FORBIDDEN';
  readonly status = 403;
}
/** A webhook named by a request rather than declared in the feature repo or allowed by config. */
export class WebhookNotAllowedError extends DomainError {
  readonly code = 'WEBHOOK_NOT_ALLOWED';
  readonly status = 403;
}

// 404: something named does not exist.
export class FeatureViewNotFoundError extends DomainError {
  readonly code = 'FEATURE_VIEW_NOT_FOUND';
  readonly status = 404;
}
export class FeatureNotFoundError extends DomainError {
  readonly code = 'FEATURE_NOT_FOUND';
  readonly status = 404;
}
export class FeatureServiceNotFoundError extends DomainError {
  readonly code = 'FEATURE_SERVICE_NOT_FOUND';
  readonly status = 404;
}
export class PushSourceNotFoundError extends DomainError {
  readonly code = 'PUSH_SOURCE_NOT_FOUND';
  readonly status = 404;
}
export class InvalidPushError extends DomainError {
  readonly code = 'INVALID_PUSH';
  readonly status = 400;
}
export class TrainingSetNotFoundError extends DomainError {
  readonly code = 'TRAINING_SET_NOT_FOUND';
  readonly status = 404;
}
export class TrainingSetExistsError extends DomainError {
  readonly code = 'TRAINING_SET_EXISTS';
  readonly status = 409;
}
export class DatasetNotFoundError extends DomainError {
  readonly code = 'DATASET_NOT_FOUND';
  readonly status = 404;
}
export class RegistryNotAppliedError extends DomainError {
  readonly code = 'REGISTRY_NOT_APPLIED';
  readonly status = 404;
}

// 409: the state of the system forbids it right now.
export class CommitConflictError extends DomainError {
  readonly code = 'COMMIT_CONFLICT';
  readonly status = 409;
}
export class MaterializationInProgressError extends DomainError {
  readonly code = 'MATERIALIZATION_IN_PROGRESS';
  readonly status = 409;
}
export class EntityNotFoundError extends DomainError {
  readonly code = 'ENTITY_NOT_FOUND';
  readonly status = 404;
}
export class SnapshotNotFoundError extends DomainError {
  readonly code = 'SNAPSHOT_NOT_FOUND';
  readonly status = 404;
}
/** Incoming rows broke a dataset's expectations (on_violation: reject); nothing was committed. */
export class ExpectationFailedError extends DomainError {
  readonly code = 'EXPECTATION_FAILED';
  readonly status = 422;
}
/** A dataset's expectations that DuckDB cannot evaluate on its columns (a text bound on a number column, say). */
export class ExpectationInvalidError extends DomainError {
  readonly code = 'EXPECTATION_INVALID';
  readonly status = 422;
}
/** A file or folder the command would create exists already (`init` into a repo). */
export class FileExistsError extends DomainError {
  readonly code = 'FILE_EXISTS';
  readonly status = 409;
}
/** A destructive command run without its confirmation flag (`teardown` without `--yes`). */
export class ConfirmationRequiredError extends DomainError {
  readonly code = 'CONFIRMATION_REQUIRED';
  readonly status = 400;
}
export class FeatureViewNotMaterializedError extends DomainError {
  readonly code = 'FEATURE_VIEW_NOT_MATERIALIZED';
  readonly status = 409;
}
export class JobCancelledError extends DomainError {
  readonly code = 'JOB_CANCELLED';
  readonly status = 409;
}
export class JobNotFoundError extends DomainError {
  readonly code = 'JOB_NOT_FOUND';
  readonly status = 404;
}
export class JobFinishedError extends DomainError {
  readonly code = 'JOB_FINISHED';
  readonly status = 409;
}
/** A local DuckDB file (the embedded online store) is held open by another process. */
/** A feature view's definition was applied anew while a job that planned it ran: its tasks stop rather than mix two definitions. */
export class FeatureViewChangedError extends DomainError {
  readonly code = 'FEATURE_VIEW_CHANGED';
  readonly status = 409;
}
export class StoreLockedError extends DomainError {
  readonly code = 'STORE_LOCKED';
  readonly status = 409;
}
export class ServerAlreadyRunningError extends DomainError {
  readonly code = 'SERVER_ALREADY_RUNNING';
  readonly status = 409;
}
/** Another request with the same Idempotency-Key is still being applied. */
export class IdempotencyKeyInUseError extends DomainError {
  readonly code = 'IDEMPOTENCY_KEY_IN_USE';
  readonly status = 409;
}

// 413 / 415: the upload is not something we take.
export class RequestTimeoutError extends DomainError {
  readonly code = 'REQUEST_TIMEOUT';
  readonly status = 408;
}
export class PayloadTooLargeError extends DomainError {
  readonly code = 'PAYLOAD_TOO_LARGE';
  readonly status = 413;
}
export class UnsupportedMediaTypeError extends DomainError {
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
  readonly status = 415;
}

// 413 / 422: over a budget (config-limits.ts). The message and `details.limit` name the config field.
export class RowLimitExceededError extends DomainError {
  readonly code = 'ROW_LIMIT_EXCEEDED';
  readonly status = 413;
}
export class SizeLimitExceededError extends DomainError {
  readonly code = 'SIZE_LIMIT_EXCEEDED';
  readonly status = 413;
}
export class JsonLimitExceededError extends DomainError {
  readonly code = 'JSON_LIMIT_EXCEEDED';
  readonly status = 413;
}
export class ResultLimitExceededError extends DomainError {
  readonly code = 'RESULT_LIMIT_EXCEEDED';
  readonly status = 422;
}
export class MemoryLimitExceededError extends DomainError {
  readonly code = 'MEMORY_LIMIT_EXCEEDED';
  readonly status = 422;
}
export class TempLimitExceededError extends DomainError {
  readonly code = 'TEMP_LIMIT_EXCEEDED';
  readonly status = 422;
}
export class TimeLimitExceededError extends DomainError {
  readonly code = 'TIME_LIMIT_EXCEEDED';
  readonly status = 422;
}

type LimitErrorClass = new (message: string, details?: Record<string, unknown>) => DomainError;

/** `what` (e.g. "entity_dataset: 12,000,000 rows") is over `field` (e.g. limits.max_entity_rows) of `max`. */
export function limitExceeded(Class: LimitErrorClass, what: string, field: string, max: number, shownMax = max.toLocaleString('en-US')): DomainError {
  return new Class(`${what} exceeds ${field} (${shownMax}); nothing was changed`, { limit: field, max });
}

// 422: well-formed, but the content cannot be used.
export class InvalidFileError extends DomainError {
  readonly code = 'INVALID_FILE';
  readonly status = 422;
}
export class SchemaMismatchError extends DomainError {
  readonly code = 'SCHEMA_MISMATCH';
  readonly status = 422;
}
export class RepoInvalidError extends DomainError {
  readonly code = 'FEATURE_REPO_INVALID';
  readonly status = 422;
}
export class FeatureViewSqlError extends DomainError {
  readonly code = 'FEATURE_VIEW_SQL_INVALID';
  readonly status = 422;
}
export class MaterializationFailedError extends DomainError {
  readonly code = 'MATERIALIZATION_FAILED';
  readonly status = 422;
}
/** Some views of a job failed and the others were materialized (job state `partial`). */
export class MaterializationPartialError extends DomainError {
  readonly code = 'MATERIALIZATION_PARTIAL';
  readonly status = 422;
}
export class IdempotencyKeyReusedError extends DomainError {
  readonly code = 'IDEMPOTENCY_KEY_REUSED';
  readonly status = 422;
}

// 5xx: a dependency failed; the request may succeed later.
export class OnlineStoreUnavailableError extends DomainError {
  readonly code = 'ONLINE_STORE_UNAVAILABLE';
  readonly status = 503;
}
/** The job queue (BullMQ's Redis) cannot take work now: submission fails at once rather than hang; serving is unaffected. */
export class QueueUnavailableError extends DomainError {
  readonly code = 'QUEUE_UNAVAILABLE';
  readonly status = 503;
}
/** Work that needs a worker (a historical retrieval, a training set, a skew check, an ingest) was asked for while no worker takes tasks off the queue. */
export class NoWorkerError extends DomainError {
  readonly code = 'NO_WORKER';
  readonly status = 503;
}
/** A lake object that should be there is not (a result or upload removed under the request). */
export class ObjectNotFoundError extends DomainError {
  readonly code = 'OBJECT_NOT_FOUND';
  readonly status = 404;
}
export class LakeUnavailableError extends DomainError {
  readonly code = 'LAKE_UNAVAILABLE';
  readonly status = 503;
}
/** The server is stopping: work still running at the drain deadline is interrupted with this. */
export class ShuttingDownError extends DomainError {
  readonly code = 'SHUTTING_DOWN';
  readonly status = 503;
}
/** A local DuckDB file was deleted or replaced under the running process; what was written went to the old file. */
export class StateFileReplacedError extends DomainError {
  readonly code = 'STATE_FILE_REPLACED';
  readonly status = 503;
}
/** The disk under a path featurelake writes is full (ENOSPC). */
export class StorageFullError extends DomainError {
  readonly code = 'STORAGE_FULL';
  readonly status = 507;
}
/** The client went away: its work is stopped. Nobody reads this answer; it names the reason in logs and metrics. */
export class ClientGoneError extends DomainError {
  readonly code = 'CLIENT_CLOSED_REQUEST';
  readonly status = 499;
}

// Startup: the configuration cannot work; the process exits with this message.
export class ConfigInvalidError extends DomainError {
  readonly code = 'CONFIG_INVALID';
  readonly status = 500;
}
export class SkewCheckNotFoundError extends DomainError {
  readonly code = 'SKEW_CHECK_NOT_FOUND';
  readonly status = 404;
}
/** A side of a skew check holds no rows (no logs yet, an empty window): nothing to compare. */
export class SkewSideEmptyError extends DomainError {
  readonly code = 'SKEW_SIDE_EMPTY';
  readonly status = 422;
}

/**
 * An error that ended work in another process (a worker's task), carried back by its code,
 * status, message and details, so that whoever waits sees it as the worker did.
 */
export class RemoteError extends DomainError {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    details?: Record<string, unknown>,
  ) {
    super(message, details);
  }
}

/** An error as JSON (what a task result or a job record carries). */
export interface ErrorRecord {
  code: string;
  message: string;
  status?: number;
  details?: Record<string, unknown>;
}

export function errorRecord(error: unknown): ErrorRecord {
  const e = asDomainError(error);
  if (e instanceof DomainError) return { code: e.code, message: e.message, status: e.status, ...(e.details ? { details: e.details } : {}) };
  return { code: 'INTERNAL_ERROR', message: e instanceof Error ? e.message : String(e), status: 500 };
}

export function fromErrorRecord(record: ErrorRecord): DomainError {
  return new RemoteError(record.code, record.status ?? 500, record.message, record.details);
}
