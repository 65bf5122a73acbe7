import fs from 'node:fs';
import path from 'node:path';
import knexPkg, { type Knex } from 'knex';
import pg from 'pg';
import { RayonError } from '../core/errors.js';
import { CANCELLED_MARK } from './scope.js';

const { knex } = knexPkg as unknown as { knex: typeof knexPkg };

// int8 (counts, sums, identity ids) as JS numbers: every figure here stays far below 2^53.
pg.types.setTypeParser(20, (v: string) => Number(v));
// Local dates stay 'YYYY-MM-DD' strings: a Date would drag a time zone into a calendar day.
pg.types.setTypeParser(1082, (v: string) => v);

export interface DbOptions {
  /** PostgreSQL URL; absent means the embedded database in `dataDir`. */
  databaseUrl?: string;
  dataDir: string;
  poolMax?: number;
  statementTimeoutMs?: number;
  lockTimeoutMs?: number;
  idleInTransactionTimeoutMs?: number;
  /** How long a query may wait for a pooled connection (default 10 s). */
  acquireTimeoutMs?: number;
  applicationName?: string;
  /** Schema to put first on the search path (tests: one schema per file). */
  searchPath?: string;
}

export interface Db {
  knex: Knex;
  kind: 'postgres' | 'embedded';
  /** Where the data lives, safe to print (no password). */
  label: string;
  /** What a person types to confirm a destructive command: the PostgreSQL database's name, or the embedded data folder. */
  name: string;
  close(): Promise<void>;
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:\/\/([^:@/]+):[^@/]*@/, '://$1:***@');
  }
}

export async function openDb(opts: DbOptions): Promise<Db> {
  return opts.databaseUrl ? openPostgres(opts) : openEmbedded(opts);
}

/** Run `fn` with an open database and always tear it down. */
export async function withDb<T>(opts: DbOptions, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await openDb(opts);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/**
 * knex writes its warnings to stdout by default, which would corrupt piped data. Send them to
 * stderr, and drop "Acquire connection error" (the same failure reaches the caller as an error)
 * and the pool's note that it replaced a connection whose statement a request deadline cancelled.
 */
const knexLog = {
  warn(message: unknown) {
    const text = String(message);
    if (!text.startsWith('Acquire connection error') && !text.includes(CANCELLED_MARK)) process.stderr.write(`knex: ${text}\n`);
  },
  error(message: unknown) {
    process.stderr.write(`knex: ${String(message)}\n`);
  },
  deprecate(method: string, alternative: string) {
    process.stderr.write(`knex: ${method} is deprecated, use ${alternative}\n`);
  },
  debug() {},
};

async function openPostgres(opts: DbOptions): Promise<Db> {
  const url = opts.databaseUrl as string;
  const label = redactUrl(url);
  const k = knex({
    client: 'pg',
    connection: {
      connectionString: url,
      statement_timeout: opts.statementTimeoutMs ?? 30_000,
      lock_timeout: opts.lockTimeoutMs ?? 10_000,
      idle_in_transaction_session_timeout: opts.idleInTransactionTimeoutMs ?? 60_000,
      application_name: opts.applicationName ?? 'rayon',
      connectionTimeoutMillis: 5_000,
    } as Knex.PgConnectionConfig,
    searchPath: opts.searchPath ? [opts.searchPath, 'public'] : undefined,
    pool: { min: 0, max: opts.poolMax ?? 10 },
    acquireConnectionTimeout: opts.acquireTimeoutMs ?? 10_000,
    log: knexLog,
  });
  let name: string;
  try {
    name = (await k.raw('select current_database() as name')).rows[0].name;
  } catch (err) {
    await k.destroy().catch(() => undefined);
    const reason = (err as Error).message?.split('\n')[0] ?? String(err);
    throw new RayonError('UNAVAILABLE', `cannot reach the database at ${label}: ${reason}`, { cause: err });
  }
  return { knex: k, kind: 'postgres', label, name, close: () => k.destroy() };
}

const LOCK_NAME = 'rayon.lock';

/** Take the embedded data folder's lock file, or explain who holds it. */
function acquireLock(dir: string): () => void {
  const file = path.join(dir, LOCK_NAME);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => {
        try {
          if (fs.readFileSync(file, 'utf8') === String(process.pid)) fs.unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(fs.readFileSync(file, 'utf8'));
      if (holder && holder !== process.pid && isAlive(holder)) {
        throw new RayonError(
          'UNAVAILABLE',
          `the embedded database in ${dir} is in use by process ${holder}; it allows one process at a time — stop that one, or set DATABASE_URL to use PostgreSQL`,
        );
      }
      fs.rmSync(file, { force: true }); // stale lock from a process that died
    }
  }
  throw new RayonError('UNAVAILABLE', `could not take the lock file in ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function openEmbedded(opts: DbOptions): Promise<Db> {
  const dir = path.resolve(opts.dataDir);
  fs.mkdirSync(dir, { recursive: true });
  const release = acquireLock(dir);
  try {
    const [{ PGlite }, clientMod] = await Promise.all([import('@electric-sql/pglite'), import('knex-pglite')]);
    const ClientPgLite = (clientMod as { default: unknown }).default as typeof knexPkg.Client;
    const pglite = new PGlite(path.join(dir, 'pg'), {
      parsers: { 20: (v: string) => Number(v), 1082: (v: string) => v },
    });
    const k = knex({ client: ClientPgLite, dialect: 'postgres', connection: { pglite } as never });
    await k.raw('select 1');
    return {
      knex: k,
      kind: 'embedded',
      label: `embedded database in ${dir}`,
      name: dir,
      close: async () => {
        try {
          await k.destroy();
        } finally {
          release();
        }
      },
    };
  } catch (err) {
    release();
    throw err;
  }
}
