import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createTestDb, describeMultiConnection, type TestDb } from '../helpers/db.js';
import { makeUser } from '../helpers/fixtures.js';
import { assertBuilt, lines, rayon } from '../helpers/rayon-cli.js';

/** Input bounds end to end: the built `rayon` against this file's PostgreSQL database. */
vi.setConfig({ testTimeout: 300_000 });

let t: TestDb;
let env: Record<string, string>;
let tmp: string;
const ESC = '\u001b';
// Clears the screen, sets the window title, rings the bell, fakes a second line, and a C1 CSI.
const HOSTILE = `Eve${ESC}[2J${ESC}]0;pwned\u0007\nadmin\u009b31m`;
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

beforeAll(async () => {
  assertBuilt();
  t = await createTestDb();
  env = t.url ? { DATABASE_URL: t.url } : {};
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rayon-bounds-'));
  await makeUser(t.db.knex, 'u-big');
});
afterAll(async () => {
  await t?.destroy();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const txCount = async () => Number((await t.db.knex('points_transactions').count({ n: '*' }).first())!.n);

describeMultiConnection('rayon CLI input bounds', () => {
  it('points adjust 3000000000: exit 2 naming amount and the range, nothing written', async () => {
    const before = await txCount();
    const [r, json] = await Promise.all([
      rayon(['points', 'adjust', 'u-big', '3000000000', '--reason', 'x'], env),
      rayon(['--json', 'points', 'adjust', 'u-big', '--reason', 'x', '--', '-3000000000'], env),
    ]);
    expect([r.code, r.stdout]).toEqual([2, '']);
    expect(r.stderr).toBe("error: amount must be between -2,147,483,647 and 2,147,483,647 (the ledger's integer range), got 3,000,000,000\n");
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: 'VALIDATION_ERROR', details: [{ where: 'amount' }] });
    expect(await txCount()).toBe(before);
  });

  it('points correct: an amount beyond the range is refused with its line and column, nothing written', async () => {
    const file = path.join(tmp, 'big.csv');
    fs.writeFileSync(file, 'user_id,amount,reason,ticket,ref\nu-big,10,fine,,b1\nu-big,3000000000,typo,,b2\n');
    const before = await txCount();
    const r = await rayon(['points', 'correct', file, '--yes'], env);
    expect([r.code, r.stdout]).toEqual([2, '']);
    expect(lines(r.stderr)).toEqual([
      'error: 1 problem(s) in big.csv; nothing was written',
      "  line 3, column amount: must be between -2,147,483,647 and 2,147,483,647 (the ledger's integer range), got 3,000,000,000",
    ]);
    expect(await txCount()).toBe(before);
  });

  it('user history --page 1000000: exit 2 naming page and the maximum depth; the deepest page answers', async () => {
    const [deep, last] = await Promise.all([
      rayon(['user', 'history', 'u-big', '--page', '1000000'], env),
      rayon(['--json', 'user', 'history', 'u-big', '--page', '100', '--limit', '100'], env),
    ]);
    expect([deep.code, deep.stdout]).toEqual([2, '']);
    expect(lines(deep.stderr)).toEqual([
      'error: page 1,000,000 × limit 20 reaches row 20,000,000: lists go at most 10,000 rows deep (page ≤ 500 with limit 20); narrow the filters instead',
      '  page: page × limit must be at most 10000',
    ]);
    expect(last.code).toBe(0);
    expect(JSON.parse(last.stdout)).toMatchObject({ page: 100, limit: 100, items: [] });
  });

  it('ANSI and other control characters in a name, an actor and a reason are shown escaped by user show and audit list', async () => {
    const add = await rayon(['user', 'add', '--id', 'u-ansi', '--email', 'eve@example.org', '--name', HOSTILE, '--territory', 'RE'], env);
    expect(add.code).toBe(0);
    const adjust = await rayon(['--actor', `ops${ESC}[8m`, 'points', 'adjust', 'u-ansi', '25', '--reason', `goodwill\u009b2J`], env);
    expect(adjust.code).toBe(0);

    const show = await rayon(['user', 'show', 'u-ansi'], env);
    expect(show.code).toBe(0);
    expect(show.stdout).not.toMatch(RAW_CONTROL);
    expect(show.stdout).toMatch(/^user +u-ansi {2}Eve\\x1b\[2J\\x1b\]0;pwned\\x07\\nadmin\\u009b31m <eve@example.org>$/m);
    expect(show.stdout).toContain('goodwill\\u009b2J');

    const audit = await rayon(['audit', 'list', '--target', 'u-ansi'], env);
    expect(audit.code).toBe(0);
    expect(audit.stdout).not.toMatch(RAW_CONTROL);
    expect(audit.stdout).toMatch(/│ ops\\x1b\[8m +│ points\.adjust/);
    expect(audit.stdout).toContain('goodwill\\u009b2J');

    // --json is JSON's business: the same text comes back intact.
    const json = await rayon(['--json', 'user', 'show', 'u-ansi'], env);
    expect(JSON.parse(json.stdout).name).toBe(HOSTILE);
  });
});
