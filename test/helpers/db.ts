import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, inject } from 'vitest';
import { openDb, type Db } from '../../src/db/connect.js';
import { migrateLatest } from '../../src/db/migrate.js';
import { withDatabase } from './global-setup.js';

export interface TestDb {
  db: Db;
  /** PostgreSQL URL of this file's database (absent in embedded mode). */
  url?: string;
  /** Open another pool on the same database (for real parallel connections). */
  open(poolMax?: number): Promise<Db>;
  destroy(): Promise<void>;
}

let counter = 0;

export const onPostgres = (): boolean => inject('testDb').mode === 'postgres';

/**
 * A fresh database for one test file: a clone of the migrated template on PostgreSQL, or a new
 * embedded database in a temporary folder when no server is available (outside CI only).
 */
export async function createTestDb(poolMax = 10): Promise<TestDb> {
  const info = inject('testDb');
  if (info.mode === 'postgres') {
    const name = `rayon_t_${process.pid}_${Date.now().toString(36)}_${counter++}`;
    const admin = new pg.Client({ connectionString: info.url });
    await admin.connect();
    try {
      await admin.query(`create database ${name} template ${info.template}`);
    } finally {
      await admin.end();
    }
    const url = withDatabase(info.url, name);
    const pools: Db[] = [];
    const open = async (max = poolMax) => {
      const d = await openDb({ databaseUrl: url, dataDir: '', poolMax: max });
      pools.push(d);
      return d;
    };
    const db = await open();
    return {
      db,
      url,
      open,
      async destroy() {
        for (const p of pools) await p.close().catch(() => undefined);
        const a = new pg.Client({ connectionString: info.url });
        await a.connect();
        await a.query(`drop database if exists ${name} with (force)`);
        await a.end();
      },
    };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rayon-test-'));
  const db = await openDb({ dataDir: dir });
  await migrateLatest(db);
  return {
    db,
    open: async () => {
      throw new Error('the embedded database has one connection: this test needs PostgreSQL');
    },
    async destroy() {
      await db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A describe block that needs several real connections: skipped, loudly, on the embedded database. */
export function describeMultiConnection(name: string, fn: () => void): void {
  describePostgresOnly(name, 'needs PostgreSQL for parallel connections', fn);
}

/** A suite that only PostgreSQL can run (COPY, several connections): skipped by name, loudly, on the embedded fallback. */
export function describePostgresOnly(name: string, why: string, fn: () => void): void {
  if (onPostgres()) describe(name, fn);
  else describe.skip(`${name} [SKIPPED: ${why}]`, fn);
}
