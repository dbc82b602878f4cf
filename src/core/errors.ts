/**
 * Guardian's errors: each has a stable `code` (used as a metric label and in API error bodies), a
 * `retryable` flag (permanent failures are never retried), and, for throttling, how long to wait.
 */
export class GuardianError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  /** Milliseconds to wait before retrying, when the peer said so (429 Retry-After). */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: string,
    message: string,
    options: { retryable?: boolean; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Configuration that cannot be used; `field` is the dotted path of the offending setting. */
export class ConfigError extends GuardianError {
  readonly field: string;
  constructor(field: string, message: string) {
    super('config_invalid', `${field}: ${message}`);
    this.field = field;
  }
}

/** A write lost an optimistic-locking race: re-read and apply again. */
export class VersionConflictError extends GuardianError {
  constructor(message: string) {
    super('version_conflict', message, { retryable: true });
  }
}

/** Something was asked for that does not exist. */
export class NotFoundError extends GuardianError {
  constructor(message: string) {
    super('not_found', message);
  }
}

/** A dependency (Slack, DynamoDB, Redis…) failed; `retryable` says whether trying again can help. */
export class DependencyError extends GuardianError {
  readonly dependency: string;
  constructor(
    dependency: string,
    code: string,
    message: string,
    options: { retryable?: boolean; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(code, `${dependency}: ${message}`, options);
    this.dependency = dependency;
  }
}

export function isRetryable(err: unknown): boolean {
  return err instanceof GuardianError ? err.retryable : true;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
