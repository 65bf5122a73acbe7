import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, inject, it, vi } from 'vitest';
import { createTestDb, describeMultiConnection, type TestDb } from '../helpers/db.js';
import { withDatabase } from '../helpers/global-setup.js';
import { assertBuilt, lines, rayon, ROOT } from '../helpers/rayon-cli.js';

/**
 * End to end against PostgreSQL: the built `rayon` in a child process, its own connection to this
 * file's database (so it runs with the multi-connection tests, skipped loudly on the embedded fallback).
 */
// Each run starts a Node process (~1 s, much more on a loaded machine): generous timeouts.
vi.setConfig({ testTimeout: 300_000 });

let t: TestDb;
let env: Record<string, string>;
let tmp: string;
const USERS_CSV = path.join(ROOT, 'test/fixtures/users.csv');

beforeAll(async () => {
  assertBuilt();
  t = await createTestDb();
  env = t.url ? { DATABASE_URL: t.url } : {};
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rayon-cli-'));
});
afterAll(async () => {
  await t?.destroy();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const count = async (table: string) => Number((await t.db.knex(table).count({ n: '*' }).first())!.n);
const balance = async (user: string) => (await t.db.knex('points_balance').where({ user_id: user }).first('balance')).balance as number;
const writeCsv = (name: string, text: string) => {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
};

describeMultiConnection('rayon CLI on PostgreSQL', () => {
  it('migrate status: 0 when up to date; --check exits 5 on a database with pending migrations', async () => {
    const [st, check] = await Promise.all([rayon(['migrate', 'status'], env), rayon(['migrate', 'status', '--check'], env)]);
    expect(st.code).toBe(0);
    expect(check.code).toBe(0);
    expect(st.stdout).toMatch(/20261125000001_foundation\s*│ applied/);
    expect(st.stderr).toMatch(/^Schema up to date \(\d+ applied\)\.\n$/);

    const info = inject('testDb');
    if (info.mode !== 'postgres') throw new Error('needs PostgreSQL');
    const name = `rayon_t_cli_${crypto.randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: info.url });
    await admin.connect();
    await admin.query(`create database ${name}`);
    try {
      const fresh = { DATABASE_URL: withDatabase(info.url, name) };
      const pending = await rayon(['migrate', 'status', '--check'], fresh);
      expect(pending.code).toBe(5);
      expect(pending.stdout).toMatch(/20261125000001_foundation\s*│ pending/);
      expect(pending.stderr).toMatch(/\d+ pending migration\(s\): run `rayon migrate latest`/);
      const latest = await rayon(['migrate', 'latest'], fresh);
      expect(latest.code).toBe(0);
      expect(latest.stderr).toMatch(/Applied \d+ migration\(s\)/);
      const again = await rayon(['migrate', 'latest'], fresh);
      expect([again.code, again.stderr]).toEqual([0, expect.stringMatching(/^Already up to date/)]);
    } finally {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });

  it('user import: without --yes exit 2 naming --yes and nothing written; with --yes the users are upserted', async () => {
    const before = await count('users');
    const [refused, json] = await Promise.all([rayon(['user', 'import', USERS_CSV], env), rayon(['--json', 'user', 'import', USERS_CSV], env)]);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/confirmation needed: run again with --yes/);
    expect(await count('users')).toBe(before);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).error.code).toBe('CONFIRMATION_REQUIRED');

    const ok = await rayon(['user', 'import', USERS_CSV, '--yes'], env);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/10 added, 0 updated, 0 unchanged/);
    expect(await count('users')).toBe(before + 10);
    const twice = await rayon(['user', 'import', USERS_CSV, '--yes'], env);
    expect([twice.code, twice.stderr]).toEqual([0, expect.stringMatching(/Nothing to do: all 10 user\(s\) already up to date/)]);
    expect(await t.db.knex('users').where({ id: 'u-re-0002' }).first('email', 'territory_code')).toEqual({ email: 'JEAN.HOARAU@example.org', territory_code: 'RE' });
  });

  it('points adjust: credit, negative amount forms, and every refusal with its exit code', async () => {
    const credit = await rayon(['points', 'adjust', 'u-re-0001', '150', '--reason', 'missed award', '--ticket', 'SUP-1'], env);
    expect(credit.code).toBe(0);
    expect(credit.stdout).toMatch(/^batch_[0-9a-f]{16} {2}transaction \d+ {2}\+150 → balance 150\n$/);
    const neg = await rayon(['points', 'adjust', 'u-re-0001', '-50', '--reason', 'duplicate'], env);
    expect([neg.code, neg.stderr]).toEqual([0, '']);
    expect(neg.stdout).toMatch(/-50 → balance 100\n$/);
    const dashdash = await rayon(['points', 'adjust', 'u-re-0001', '--reason', 'duplicate', '--', '-20'], env);
    expect(dashdash.code).toBe(0);
    expect(dashdash.stdout).toMatch(/-20 → balance 80\n$/);
    expect(await balance('u-re-0001')).toBe(80);

    const tx = await count('points_transactions');
    // Refusals write nothing: run them side by side.
    const [unknown, noReason, zero, fractional] = await Promise.all([
      rayon(['points', 'adjust', 'ghost', '10', '--reason', 'x'], env),
      rayon(['points', 'adjust', 'u-re-0001', '10'], env),
      rayon(['points', 'adjust', 'u-re-0001', '0', '--reason', 'x'], env),
      rayon(['points', 'adjust', 'u-re-0001', '1.5', '--reason', 'x'], env),
    ]);
    expect([unknown.code, unknown.stdout]).toEqual([4, '']);
    expect(unknown.stderr).toBe('error: user "ghost" not found [NOT_FOUND]\n');
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/required option '--reason <text>' not specified/);
    expect([zero.code, zero.stderr]).toEqual([2, 'error: amount must not be zero\n']);
    expect([fractional.code, fractional.stderr]).toEqual([2, 'error: amount must be a whole number, got "1.5"\n']);
    const beyond = await rayon(['points', 'adjust', 'u-re-0001', '-500', '--reason', 'clawback'], env);
    expect([beyond.code, beyond.stdout]).toEqual([3, '']);
    expect(beyond.stderr).toMatch(/has 80 points available, 500 needed \(use --clamp to take what is left\) \[INSUFFICIENT_BALANCE\]/);
    expect(await count('points_transactions')).toBe(tx);
    expect(await balance('u-re-0001')).toBe(80);

    const clamp = await rayon(['points', 'adjust', 'u-re-0001', '-500', '--reason', 'clawback', '--clamp'], env);
    expect(clamp.code).toBe(0);
    expect(clamp.stdout).toMatch(/-80 → balance 0\n$/);
    expect(clamp.stderr).toMatch(/only 80 of 500 points could be taken: shortfall 420/);
    expect(await balance('u-re-0001')).toBe(0);
  });

  it('--json: valid JSON on stdout only', async () => {
    const r = await rayon(['--json', 'points', 'adjust', 'u-re-0002', '75', '--reason', 'promo'], env);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const data = JSON.parse(r.stdout);
    expect(data).toMatchObject({ batch_id: expect.stringMatching(/^batch_/), user_id: 'u-re-0002', requested: 75, applied: 75, shortfall: 0, balance: 75 });
    expect(typeof data.transaction_id).toBe('number');
    const [hist, err] = await Promise.all([
      rayon(['--json', 'user', 'history', 'u-re-0002'], env),
      rayon(['--json', 'points', 'adjust', 'u-re-0002', '-100', '--reason', 'x'], env),
    ]);
    expect(hist.stderr).toBe('');
    expect(JSON.parse(hist.stdout)).toMatchObject({ page: 1, limit: 20, total: 1, items: [{ type: 'adjustment', amount: 75 }] });
    expect(err.code).toBe(3);
    expect(JSON.parse(err.stdout).error.code).toBe('INSUFFICIENT_BALANCE');
  });

  it('points correct: a bad file exits 2 with every bad line on stderr and nothing on stdout; a good one applies once', async () => {
    const bad = writeCsv(
      'bad.csv',
      'user_id,amount,reason,ticket,ref\nu-re-0001,10,ok,,c1\nu-re-0002,1.5,oops,,c2\nu-yt-0001,0,zero,,c3\nu-gp-0001,5,,,c4\n',
    );
    const good = writeCsv('good.csv', 'user_id,amount,reason,ticket,ref\nu-yt-0001,30,goodwill,SUP-7,g1\nu-gp-0001,40,goodwill,,g2\n');
    const tx = await count('points_transactions');
    const [r, unknownUser, noYes, dry] = await Promise.all([
      rayon(['points', 'correct', bad, '--yes'], env),
      rayon(['points', 'correct', writeCsv('ghost.csv', 'user_id,amount,reason,ref\nghost,5,x,g1\n'), '--yes'], env),
      rayon(['points', 'correct', good], env), // no --yes, no TTY
      rayon(['points', 'correct', good, '--dry-run'], env),
    ]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toEqual([
      'error: 3 problem(s) in bad.csv; nothing was written',
      '  line 3, column amount: must be a whole number of points, got "1.5"',
      '  line 4, column amount: must not be zero',
      '  line 5, column reason: is required',
    ]);
    expect(unknownUser.code).toBe(2);
    expect(unknownUser.stderr).toMatch(/line 2, column user_id: unknown user "ghost"/);
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toMatch(/confirmation needed: run again with --yes/);
    expect(dry.code).toBe(0);
    expect(dry.stderr).toMatch(/Dry run, nothing written: 2 row\(s\) applied/);
    expect(await count('points_transactions')).toBe(tx);
    const first = await rayon(['points', 'correct', good, '--yes'], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/u-yt-0001.*g1.*30/);
    expect(first.stderr).toMatch(/^✔ batch_[0-9a-f]{16}: 2 row\(s\) applied \(70 points net\), 0 already applied before\./);
    const second = await rayon(['points', 'correct', good, '--yes'], env);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe('');
    expect(second.stderr).toBe('Nothing to do: all 2 row(s) of good.csv were already applied.\n');
    expect(await count('points_transactions')).toBe(tx + 2);
    expect(await balance('u-yt-0001')).toBe(30);
  });

  it('ledger verify: exit 0 on a clean ledger, 5 after tampering with a balance in SQL', async () => {
    const [ok, one] = await Promise.all([rayon(['ledger', 'verify'], env), rayon(['--json', 'ledger', 'verify', '--user', 'u-re-0001'], env)]);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/Ledger verified: \d+ invariants hold over 10 user\(s\)/);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toMatchObject({ ok: true, users: 1 });

    await t.db.knex.raw("update points_balance set balance = balance + 7 where user_id = 'u-gp-0001'");
    try {
      const [bad, json] = await Promise.all([rayon(['ledger', 'verify'], env), rayon(['--json', 'ledger', 'verify'], env)]);
      expect(bad.code).toBe(5);
      expect(bad.stdout).toMatch(/balance_equals_transactions user u-gp-0001: \{"balance":47,"transactions":40\}/);
      expect(bad.stderr).toMatch(/error: 2 discrepancy\(ies\) found over 10 user\(s\)\./);
      expect(json.code).toBe(5);
      const data = JSON.parse(json.stdout);
      expect(data.ok).toBe(false);
      expect(data.discrepancies.map((d: { check: string }) => d.check)).toEqual(['balance_equals_transactions', 'balance_equals_open_lots']);
    } finally {
      await t.db.knex.raw("update points_balance set balance = balance - 7 where user_id = 'u-gp-0001'");
    }
    expect((await rayon(['ledger', 'verify'], env)).code).toBe(0);
  });

  it('an unreachable database: exit 1, one line on stderr naming the URL without its password', async () => {
    const r = await rayon(['--database-url', 'postgres://bob:secret@127.0.0.1:1/x', 'migrate', 'status']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toContain('secret');
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: cannot reach the database at postgres:\/\/bob:\*\*\*@127\.0\.0\.1:1\/x: .*\[UNAVAILABLE\]\n$/);
  });

  it('a bad --now or DATABASE_URL is a usage error (exit 2)', async () => {
    const [r, u] = await Promise.all([rayon(['--now', 'yesterday', 'ledger', 'verify'], env), rayon(['ledger', 'verify'], { DATABASE_URL: 'mysql://root@localhost/x' })]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--now: not an ISO instant/);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/);
  });
});
