import { AsyncLocalStorage } from 'node:async_hooks';
import type { Knex } from 'knex';

/**
 * The database work of one HTTP request, bounded by the request's deadline (SPEC "Degraded
 * mode": nothing is half-written). Work runs inside a scope (`runInScope`); the pool knows which
 * scope each connection serves. Once the scope is aborted:
 * - it gets no new connection (an acquire still waiting fails at once, and the connection it
 *   would have had goes back to the pool);
 * - a statement running on one of its connections is cancelled (pg_cancel_backend), and that
 *   connection is not lent again (a late cancel must not hit another request's statement);
 * - no further statement may start on its connections except ROLLBACK, so its transactions roll
 *   back and a COMMIT not yet sent never is; a transaction still open when the connection goes
 *   back is rolled back then.
 * Work outside any scope (the CLI, timers, shared work such as batches) is not affected.
 *
 * The cost: on Node 20, AsyncLocalStorage keeps promise hooks on for the whole process, about
 * 0.13 µs per promise (Node 24 carries the context without hooks).
 */
export class WorkScope {
  // Not an AbortController: one scope per request, and an EventTarget costs more than this.
  private why?: Error;
  private listeners?: Set<() => void>;
  /** The pooled connections this scope holds now. */
  readonly held = new Set<GuardedConnection>();

  get aborted(): boolean {
    return this.why !== undefined;
  }

  get reason(): Error {
    return this.why as Error;
  }

  /** Call `fn` once, when the scope aborts; returns the way to forget it. */
  onAbort(fn: () => void): () => void {
    (this.listeners ??= new Set()).add(fn);
    return () => this.listeners?.delete(fn);
  }

  abort(reason: Error): void {
    if (this.aborted) return;
    this.why = reason;
    for (const conn of this.held) stopWork(conn, reason);
    const listeners = this.listeners;
    this.listeners = undefined;
    for (const fn of listeners ?? []) fn();
  }
}

const storage = new AsyncLocalStorage<WorkScope | undefined>();

/**
 * Run `fn` as the work of `scope` (undefined: outside any scope, e.g. work shared by several
 * requests). The work must start inside `fn`: a Knex builder returned unawaited runs later,
 * outside the scope.
 */
export function runInScope<T>(scope: WorkScope | undefined, fn: () => T): T {
  return storage.run(scope, fn);
}

export function currentScope(): WorkScope | undefined {
  return storage.getStore();
}

/** Marks a connection the pool must destroy instead of lending again (see connect.ts's log filter). */
export const CANCELLED_MARK = 'statement cancelled at the request deadline';

const GUARDED = Symbol('rayon.guarded');
const OWNER = Symbol('rayon.owner');
const CLIENT = Symbol('rayon.client');

type QueryFn = (...args: unknown[]) => unknown;
/** A pooled `pg` client, with the pg internals read to know whether a statement is in flight. */
interface GuardedConnection {
  query: QueryFn;
  __knex__disposed?: unknown;
  _getActiveQuery?(): unknown;
  _queryQueue?: unknown[];
  /** 'I' idle, 'T' in a transaction, 'E' in a failed transaction (pg ≥ 8.19). */
  getTransactionStatus?(): string | null;
  end?(): Promise<void>;
  [OWNER]?: WorkScope;
  [CLIENT]?: PoolClient;
}
interface PoolClient {
  acquireConnection(): Promise<GuardedConnection>;
  releaseConnection(conn: GuardedConnection): Promise<unknown>;
  cancelQuery?(conn: GuardedConnection): Promise<unknown>;
  [GUARDED]?: true;
}

/**
 * Make a PostgreSQL pool scope-aware (idempotent). Every path to a connection goes through the
 * client's acquire and release (Knex queries and transactions, and the hot paths' raw
 * connections in src/db/fast-tx.ts). Nothing is added to each statement: the guard on
 * statements is put on a connection only when its scope aborts, and taken off at release.
 */
export function guardPool(knex: Knex): void {
  const client = knex.client as unknown as PoolClient;
  if (client[GUARDED]) return;
  client[GUARDED] = true;
  const acquire = client.acquireConnection.bind(client);
  const release = client.releaseConnection.bind(client);
  client.acquireConnection = async () => {
    const scope = storage.getStore();
    if (!scope) return acquire();
    if (scope.aborted) throw scope.reason;
    const conn = await untilAborted(scope, acquire(), release);
    if (scope.aborted) {
      await release(conn);
      throw scope.reason;
    }
    conn[OWNER] = scope;
    conn[CLIENT] = client;
    scope.held.add(conn);
    return conn;
  };
  client.releaseConnection = async (conn) => {
    const owner = conn[OWNER];
    if (owner) {
      owner.held.delete(conn);
      conn[OWNER] = undefined;
      if (owner.aborted) await cleanUp(conn);
    }
    return release(conn);
  };
}

/** The connection once `pending` gives it, or the scope's reason as soon as it aborts (then the connection, when it comes, goes back). */
function untilAborted(scope: WorkScope, pending: Promise<GuardedConnection>, release: (c: GuardedConnection) => Promise<unknown>): Promise<GuardedConnection> {
  return new Promise((resolve, reject) => {
    const forget = scope.onAbort(() => {
      reject(scope.reason);
      pending.then(release, () => undefined);
    });
    pending.then(
      (conn) => {
        forget();
        resolve(conn);
      },
      (err: unknown) => {
        forget();
        reject(err);
      },
    );
  });
}

/** At the deadline, on a connection the scope holds: cancel what runs, refuse what would follow. */
function stopWork(conn: GuardedConnection, reason: Error): void {
  const busy = (conn._getActiveQuery?.() ?? null) !== null || (conn._queryQueue?.length ?? 0) > 0;
  if (busy) {
    // Never lent again: a late cancel must not hit another request's statement.
    conn.__knex__disposed = CANCELLED_MARK;
    // On its own short-lived connection: the pool may be exhausted, which is often why we are here.
    void conn[CLIENT]?.cancelQuery?.(conn).catch(() => undefined);
  }
  const query = conn.query;
  conn.query = function refusing(this: GuardedConnection, ...args: unknown[]) {
    return isRollback(args[0]) ? query.apply(this, args) : refuse(args, reason);
  };
}

/**
 * Before a stopped scope's connection goes back: pg's own `query` again, and no transaction left
 * open (a refused COMMIT leaves one, with its locks): rolled back now, or, on a connection that
 * will not be lent again, closed now (which ends the transaction and frees its locks).
 */
async function cleanUp(conn: GuardedConnection): Promise<void> {
  if (Object.prototype.hasOwnProperty.call(conn, 'query')) delete (conn as Partial<GuardedConnection>).query;
  if ((conn.getTransactionStatus?.() ?? null) === 'I') return;
  if (conn.__knex__disposed === undefined) {
    try {
      await conn.query('ROLLBACK');
      return;
    } catch {
      conn.__knex__disposed = CANCELLED_MARK;
    }
  }
  await conn.end?.().catch(() => undefined);
}

function isRollback(q: unknown): boolean {
  const text = typeof q === 'string' ? q : (q as { text?: unknown } | null)?.text;
  return typeof text === 'string' && /^\s*rollback\b/i.test(text);
}

function refuse(args: unknown[], reason: Error): unknown {
  const cb = args.find((a) => typeof a === 'function') as ((err: Error) => void) | undefined;
  if (cb) {
    process.nextTick(cb, reason);
    return undefined;
  }
  return Promise.reject(reason);
}
