import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openDb } from '../../src/db/connect.js';
import { migrateLatest } from '../../src/db/migrate.js';

/**
 * Find the test PostgreSQL (TEST_DATABASE_URL, else the local server) and build a migrated
 * template database that every integration file clones. With CI=true a missing server fails the
 * run; elsewhere the suite falls back to the embedded database and says which tests it skips.
 */
export const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';
export const TEMPLATE_DB = `rayon_tpl_${process.pid}`;

export default async function setup(project: TestProject) {
  const url = process.env.TEST_DATABASE_URL || DEFAULT_URL;
  const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (err) {
    if (process.env.CI === 'true' || process.env.CI === '1') {
      throw new Error(
        `PostgreSQL is not reachable at ${url} (${(err as Error).message}). CI needs it: start it with ` +
          "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` or set TEST_DATABASE_URL.",
      );
    }
    process.stderr.write(
      `\n${'!'.repeat(78)}\n! PostgreSQL is not reachable at ${url}.\n` +
        '! Running on the EMBEDDED database instead. Multi-connection tests (concurrency, two\n' +
        '! servers, migrate races) CANNOT run there and are SKIPPED — each is listed as skipped.\n' +
        `! Start PostgreSQL or set TEST_DATABASE_URL to run them.\n${'!'.repeat(78)}\n\n`,
    );
    project.provide('testDb', { mode: 'embedded' });
    return;
  }
  await admin.query(`drop database if exists ${TEMPLATE_DB} with (force)`);
  await admin.query(`create database ${TEMPLATE_DB}`);
  const tplUrl = withDatabase(url, TEMPLATE_DB);
  const db = await openDb({ databaseUrl: tplUrl, dataDir: '' });
  try {
    await migrateLatest(db);
  } finally {
    await db.close();
  }
  project.provide('testDb', { mode: 'postgres', url, template: TEMPLATE_DB });
  return async () => {
    await admin.query(`drop database if exists ${TEMPLATE_DB} with (force)`);
    await admin.end();
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

declare module 'vitest' {
  export interface ProvidedContext {
    testDb: { mode: 'embedded' } | { mode: 'postgres'; url: string; template: string };
  }
}
