import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDb, describePostgresOnly, onPostgres, type TestDb } from '../helpers/db.js';
import { assertBuilt, rayon } from '../helpers/rayon-cli.js';
import { scramSha256Verifier } from '../../src/db/scram.js';
import { APP_WRITES } from '../../src/db/role-grants.js';

/** `rayon db roles` end to end: the built CLI, its refusal without a server, its output and password. */
vi.setConfig({ testTimeout: 300_000 });

const ROLE = `rayon_cli_t_${process.pid}_${crypto.randomBytes(3).toString('hex')}`;
const PASSWORD = `pw-${crypto.randomBytes(18).toString('base64url')}`;
let t: TestDb | undefined;
let tmp: string;

beforeAll(async () => {
  assertBuilt();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rayon-roles-'));
  if (onPostgres()) t = await createTestDb();
});
afterAll(async () => {
  if (t && (await t.db.knex.raw('select 1 from pg_roles where rolname = ?', [ROLE])).rows.length) await t.db.knex.raw(`drop owned by ${ROLE}; drop role ${ROLE}`);
  await t?.destroy();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('rayon db roles without a server', () => {
  it('is refused on the embedded database, exit 2, before any data folder is made', async () => {
    const r = await rayon(['db', 'roles', '--app-role', 'rayon_app'], { RAYON_DATA_DIR: path.join(tmp, 'data') }, { cwd: tmp });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/rayon db roles needs a PostgreSQL server \(DATABASE_URL or --database-url\): the embedded database has no roles/);
    expect(r.stdout).toBe('');
    expect(fs.existsSync(path.join(tmp, 'data'))).toBe(false);
  });
});

describePostgresOnly('rayon db roles on PostgreSQL', 'roles need a PostgreSQL server', () => {
  it('creates the role with its password from the environment (never printed), prints the grants, audits the run', async () => {
    const env = { DATABASE_URL: t!.url!, APP_DB_PASSWORD: PASSWORD };
    const missing = await rayon(['db', 'roles', '--app-role', ROLE, '--password-env', 'NOT_SET_HERE'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--password-env NOT_SET_HERE: the environment variable NOT_SET_HERE is not set/);

    const r = await rayon(['db', 'roles', '--app-role', ROLE, '--password-env', 'APP_DB_PASSWORD', '--json'], env);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ role: ROLE, created: true, password: 'set', schema: 'public', revoked: [] });
    const grants = Object.fromEntries((out.grants as Array<{ object: string; privileges: string[] }>).map((g) => [g.object, g.privileges]));
    expect(grants['table points_transactions']).toEqual(['SELECT', 'INSERT']);
    expect(grants['table idempotency_keys']).toEqual(['SELECT', 'INSERT']);
    expect(grants['table audit_log']).toEqual(['SELECT', 'INSERT']);
    expect(grants['table points_balance']).toEqual(['SELECT', 'INSERT', 'UPDATE(balance, lifetime_points, status, updated_at)']);
    expect(grants['schema public']).toEqual(['USAGE']);
    expect(Object.values(grants).flat().filter((p) => /^(DELETE|TRUNCATE|CREATE|TRIGGER|REFERENCES)/.test(p))).toEqual([]);

    // Stored as a SCRAM-SHA-256 verifier of that password (the clear text never reached the server).
    const stored = (await t!.db.knex.raw('select rolpassword from pg_authid where rolname = ?', [ROLE])).rows[0].rolpassword as string;
    const [, iter, salt] = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(stored)!;
    expect(scramSha256Verifier(PASSWORD, Buffer.from(salt, 'base64'), Number(iter))).toBe(stored);
    const audit = await t!.db.knex('audit_log').where({ action: 'db.roles' }).first('actor', 'target', 'details');
    expect(audit).toMatchObject({ actor: 'cli-test', target: `role:${ROLE}`, details: { password: 'set', created: true } });
    expect(JSON.stringify(audit.details)).not.toContain(PASSWORD);

    const table = await rayon(['db', 'roles', '--app-role', ROLE], { DATABASE_URL: t!.url! });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/│ table points_transactions\s*│ SELECT, INSERT\s*│/);
    expect(table.stderr).toMatch(new RegExp(`Role ${ROLE} updated on rayon_t_\\w+: reads the public schema, writes ${Object.keys(APP_WRITES).length} table\\(s\\), no DELETE, TRUNCATE or DDL; password unchanged\\.`));
  });

  it('the verifier is the one PostgreSQL computes itself for the same password and salt', async () => {
    const k = t!.db.knex;
    const probe = `${ROLE}_scram`;
    await k.raw(`set password_encryption = 'scram-sha-256'; create role ${probe} password '${PASSWORD}'`);
    try {
      const stored = (await k.raw('select rolpassword from pg_authid where rolname = ?', [probe])).rows[0].rolpassword as string;
      const [, iter, salt] = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(stored)!;
      expect(scramSha256Verifier(PASSWORD, Buffer.from(salt, 'base64'), Number(iter))).toBe(stored);
    } finally {
      await k.raw(`drop role ${probe}`);
    }
  });
});
