import { AsyncLocalStorage } from 'node:async_hooks';
import type { Knex } from 'knex';

/**
 * The database work of one HTTP request, bounded by the request's deadline (SPEC "Degraded
 * mode": nothing is half-written). Work runs inside a scope (`runInScope`); the pool knows which
 * scope each connection serves. Once the scope is aborted:
 * - it gets no new connection (an acquire still waiting fails at once, and the connection it
 *   would have had goes back to the pool);
 * - a statement running on one of its connections is cancelled (pg_cancel_backend), and that
 *   connection is not reused afterwards (a late cancel must not hit another request's statement);
 * - no further statement may start on its connections except ROLLBACK, so its transactions roll
 *   back and a COMMIT not yet sent never is.
 * Work outside any scope (the CLI, timers, shared work such as batches) is not affected.
 */
export class WorkScope {
  private readonly controller = new AbortController();
  /** The pooled connections this scope holds now. */
  readonly held = new Set<GuardedConnection>();

  get aborted(): boolean {
    return this.controller.signal.aborted;
  }

  get reason(): Error {
    return this.controller.signal.reason as Error;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  abort(reason: Error): void {
    if (this.aborted) return;
    this.controller.abort(reason);
    for (const conn of this.held) {
      if ((conn[RUNNING] ?? 0) > 0) cancelRunning(conn);
    }
  }
}

const storage = new AsyncLocalStorage<WorkScope | undefined>();

/** Run `fn` as the work of `scope` (undefined: outside any scope, e.g. work shared by several requests). */
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
const RUNNING = Symbol('rayon.running');
const CLIENT = Symbol('rayon.client');

type QueryFn = (...args: unknown[]) => unknown;
interface GuardedConnection {
  query: QueryFn;
  __knex__disposed?: unknown;
  [GUARDED]?: true;
  [OWNER]?: WorkScope;
  [RUNNING]?: number;
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
 * connections in src/core/fast-tx.ts), and every statement through the connection's `query`.
 */
export function guardPool(knex: Knex): void {
  const client = knex.client as unknown as PoolClient;
  if (client[GUARDED]) return;
  client[GUARDED] = true;
  const acquire = client.acquireConnection.bind(client);
  const release = client.releaseConnection.bind(client);
  const acquireGuarded = async () => {
    const conn = await acquire();
    guardConnection(conn, client);
    return conn;
  };
  client.acquireConnection = async () => {
    const scope = storage.getStore();
    if (!scope) return acquireGuarded();
    if (scope.aborted) throw scope.reason;
    const conn = await untilAborted(scope, acquireGuarded(), release);
    if (scope.aborted) {
      await release(conn);
      throw scope.reason;
    }
    conn[OWNER] = scope;
    scope.held.add(conn);
    return conn;
  };
  client.releaseConnection = (conn) => {
    const owner = conn[OWNER];
    if (owner) {
      owner.held.delete(conn);
      conn[OWNER] = undefined;
    }
    return release(conn);
  };
}

/** The connection once `pending` gives it, or the scope's reason as soon as it aborts (then the connection, when it comes, goes back). */
function untilAborted(scope: WorkScope, pending: Promise<GuardedConnection>, release: (c: GuardedConnection) => Promise<unknown>): Promise<GuardedConnection> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      reject(scope.reason);
      pending.then(release, () => undefined);
    };
    scope.signal.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (conn) => {
        scope.signal.removeEventListener('abort', onAbort);
        resolve(conn);
      },
      (err: unknown) => {
        scope.signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

function guardConnection(conn: GuardedConnection, client: PoolClient): void {
  if (conn[GUARDED]) return;
  conn[GUARDED] = true;
  conn[CLIENT] = client;
  const query = conn.query;
  conn.query = function guardedQuery(this: GuardedConnection, ...args: unknown[]) {
    const owner = this[OWNER];
    if (owner?.aborted && !isRollback(args[0])) return refuse(args, owner.reason);
    this[RUNNING] = (this[RUNNING] ?? 0) + 1;
    const done = () => {
      this[RUNNING] = (this[RUNNING] ?? 1) - 1;
    };
    const cb = args.findIndex((a) => typeof a === 'function');
    if (cb >= 0) {
      const callback = args[cb] as (...r: unknown[]) => void;
      args[cb] = (...r: unknown[]) => {
        done();
        callback(...r);
      };
      return query.apply(this, args);
    }
    const result = query.apply(this, args) as { then?: (a: () => void, b: () => void) => unknown } | undefined;
    if (typeof result?.then === 'function') result.then(done, done);
    else done(); // a streamed (submittable) query: not tracked
    return result;
  };
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

function cancelRunning(conn: GuardedConnection): void {
  conn.__knex__disposed = CANCELLED_MARK;
  // On its own short-lived connection: the pool may be exhausted, which is often why we are here.
  void conn[CLIENT]?.cancelQuery?.(conn).catch(() => undefined);
}
