/**
 * One error class for every refusal the domain can give, with a stable code.
 * The table below maps each code once to its HTTP status and CLI exit code (SPEC "Errors").
 */
export const ERROR_CODES = {
  VALIDATION_ERROR: { http: 400, exit: 2 },
  CONFIRMATION_REQUIRED: { http: 400, exit: 2 },
  UNAUTHENTICATED: { http: 401, exit: 2 },
  FORBIDDEN: { http: 403, exit: 3 },
  ACCOUNT_SUSPENDED: { http: 403, exit: 3 },
  TERRITORY_NOT_LAUNCHED: { http: 403, exit: 3 },
  NOT_FOUND: { http: 404, exit: 4 },
  ALREADY_COLLECTED: { http: 409, exit: 3 },
  CAP_REACHED: { http: 409, exit: 3 },
  INVALID_STATE: { http: 409, exit: 3 },
  PAYLOAD_TOO_LARGE: { http: 413, exit: 2 },
  INSUFFICIENT_BALANCE: { http: 422, exit: 3 },
  OUT_OF_STOCK: { http: 422, exit: 3 },
  REWARD_UNAVAILABLE: { http: 422, exit: 3 },
  IDEMPOTENCY_MISMATCH: { http: 422, exit: 3 },
  RATE_LIMITED: { http: 429, exit: 3 },
  UNAVAILABLE: { http: 503, exit: 1 },
  INTERNAL: { http: 500, exit: 1 },
  CHECK_FAILED: { http: 500, exit: 5 },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface FieldError {
  /** Where the problem is: a parameter name, a JSON path, or `line N, column C`. */
  where: string;
  message: string;
}

export class RayonError extends Error {
  readonly code: ErrorCode;
  readonly details?: FieldError[];
  /** Extra data a caller may render (never sent to HTTP clients unless whitelisted). */
  readonly data?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, opts: { details?: FieldError[]; data?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'RayonError';
    this.code = code;
    this.details = opts.details;
    this.data = opts.data;
  }

  get exitCode(): number {
    return ERROR_CODES[this.code].exit;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }
}

export function validationError(message: string, details?: FieldError[]): RayonError {
  return new RayonError('VALIDATION_ERROR', message, { details });
}

export function notFound(what: string, id: string): RayonError {
  return new RayonError('NOT_FOUND', `${what} ${JSON.stringify(id)} not found`);
}

/** PostgreSQL error codes that mean "the database is not reachable or is saturated". */
const UNAVAILABLE_PG_CODES = new Set(['57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08006', '55P03', '57014']);
const UNAVAILABLE_NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'EAI_AGAIN']);

/**
 * Map an error surfacing from the database to its business meaning: a CHECK on a balance is
 * INSUFFICIENT_BALANCE, a CHECK on stock is OUT_OF_STOCK, an integer out of range is
 * VALIDATION_ERROR, a dead server is UNAVAILABLE.
 * Anything else is returned as is.
 */
export function mapDbError(err: unknown): unknown {
  if (err instanceof RayonError) return err;
  const e = err as { code?: string; constraint?: string; message?: string; name?: string };
  if (!e || typeof e !== 'object') return err;
  if (e.code === '23514') {
    const c = e.constraint ?? '';
    if (c.includes('balance') || c.includes('remaining')) {
      return new RayonError('INSUFFICIENT_BALANCE', 'not enough points for this debit', { cause: err });
    }
    if (c.includes('stock') || c.includes('units')) {
      return new RayonError('OUT_OF_STOCK', 'no unit of this reward is left', { cause: err });
    }
  }
  if (e.code === '22003') {
    // A figure past an integer column's range that no earlier check caught: the input's fault.
    return new RayonError('VALIDATION_ERROR', 'a number is out of range for the ledger (points are at most 2147483647)', { cause: err });
  }
  if (e.code && (UNAVAILABLE_PG_CODES.has(e.code) || UNAVAILABLE_NET_CODES.has(e.code))) {
    return new RayonError('UNAVAILABLE', 'the database is unavailable or saturated; retry shortly', { cause: err });
  }
  if (e.name === 'KnexTimeoutError') {
    return new RayonError('UNAVAILABLE', 'the database is saturated (no connection available); retry shortly', { cause: err });
  }
  return err;
}

/**
 * The exit code of a code in the table, for a command that reports a finding without throwing
 * (`ledger verify`, `migrate status --check` end with CHECK_FAILED's exit code).
 */
export function exitCodeOf(code: ErrorCode): number {
  return ERROR_CODES[code].exit;
}
