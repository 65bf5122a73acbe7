import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createTestDb, describeMultiConnection, type TestDb } from '../helpers/db.js';
import { RICH, seedRichUser } from '../helpers/support-seed.js';
import { assertBuilt, lines, rayon } from '../helpers/rayon-cli.js';

/**
 * The support view end to end (built binary): `user show`, `user explain` and `user history
 * --from/--to` on a user with a rich history, a tampered stored balance, and bad input.
 */
vi.setConfig({ testTimeout: 300_000 });

let t: TestDb;
let env: Record<string, string>;
let seeded: Awaited<ReturnType<typeof seedRichUser>>;

beforeAll(async () => {
  assertBuilt();
  t = await createTestDb();
  env = { ...(t.url ? { DATABASE_URL: t.url } : {}), RAYON_NOW: RICH.now.toISOString() };
  seeded = await seedRichUser(t.db.knex);
}, 300_000);
afterAll(async () => t?.destroy());

describeMultiConnection('rayon user show / explain / history', () => {
  it('user show: one screen, found by email in any case', async () => {
    const r = await rayon(['user', 'show', 'RICH.PERSON@example.org'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/^user\s+u-rich {2}Rich Person <Rich\.Person@Example\.org>$/m);
    expect(out).toMatch(/^territory\s+RE La Réunion \(open\), local time 2026-09-22 10:00 Indian\/Reunion$/m);
    expect(out).toMatch(/^status\s+bronze, lifetime 238 points, 1762 to silver$/m);
    expect(out).toMatch(/^balance\s+138 points in \d+ open lot\(s\)$/m);
    // The stored streak is 8 (the joker bridged 09-17); four days later it is broken: effective 0.
    expect(out).toMatch(/^streak\s+0 day\(s\) \(max 8\), jokers 0, last collection 2026-09-18, today not collected; next collection ×1 = 10 points$/m);
    expect(out).toMatch(/^suspended\s+no$/m);
    expect(out).toContain('Expiring within 30 local days: 40 on 2026-10-20 00:00');
    expect(out).toContain('Last transactions (10 of 16)');
    expect(out).toMatch(/│ refund\s+│ 40\s+│ redemption \d+, "partner out of vouchers", by ops/);
    expect(out).toMatch(/│ daily\s+│ 15\s+│ streak day 8, 1 joker\(s\) used/);
    expect(out).toMatch(/│ SUP-VOUCHER Reward SUP-VOUCHER\s+│ 50\s+│ rejected\s+│\s+│ ops: partner out of vouchers/);
    expect(out).toMatch(new RegExp(`│ ${seeded.suspensionId}\\s+│ 2026-09-20 12:00\\s+│ ops\\s+│ earn velocity under review\\s+│ 2026-09-21 12:00\\s+│ ops\\s+│ honest heavy seller`));
    expect(out).toMatch(/Open fraud cases\nnone\n/);
    for (const action of ['user.lift', 'user.suspend', 'redemption.reject', 'points.revert', 'points.adjust']) expect(out).toContain(`│ ${action}`);

    const json = JSON.parse((await rayon(['user', 'show', RICH.id, '--json'], env)).stdout);
    expect(json).toMatchObject({ id: RICH.id, balance: RICH.balance, lifetime_points: RICH.lifetime, status: 'bronze', territory: 'RE', streak: { current: 0, max: 8 }, suspended: false, transactions_total: 16 });
    expect(json.recent_transactions).toHaveLength(10);
  });

  it('user explain: one line per transaction with the running balance and the lots consumed, then the comparison', async () => {
    const r = await rayon(['user', 'explain', RICH.id], env);
    expect(r.code).toBe(0);
    const rows = lines(r.stdout.slice(0, r.stdout.indexOf('Open lots'))).filter((l) => /^│ \d/.test(l)).map((l) => l.split('│').map((c) => c.trim()));
    expect(rows.map((c) => [c[3], c[4], c[5]])).toEqual([
      ['adjustment', '+100', '100'],
      ['adjustment', '+40', '140'],
      ['adjustment', '+50', '190'],
      ['revert', '-50', '140'],
      ['expire', '-100', '40'],
      ['daily', '+10', '50'], ['daily', '+10', '60'], ['daily', '+12', '72'], ['daily', '+12', '84'],
      ['daily', '+12', '96'], ['daily', '+12', '108'], ['daily', '+15', '123'], ['daily', '+15', '138'],
      ['redeem', '-50', '88'],
      ['refund', '+40', '128'],
      ['refund', '+10', '138'],
    ]);
    expect(r.stdout).toMatch(/streak day 8, 1 joker\(s\) used/);
    expect(r.stdout).toMatch(/took 100 from lot \d+ \(credit \d+, expires 2026-09-01T20:00:00\.000Z\)/);
    expect(r.stdout).toMatch(/took 40 from lot \d+ \(credit \d+, expires 2026-10-10T20:00:00\.000Z\)/);
    expect(r.stdout).toContain('rebuilt from the ledger 138 · open lots 138 · stored balance 138 · shown balance 138 → match');

    const past = await rayon(['user', 'explain', RICH.email, '--as-of', '2026-09-04T00:00:00Z'], env);
    expect(past.code).toBe(0);
    expect(past.stdout).toContain('u-rich: 4 transaction(s) up to 2026-09-04T00:00:00.000Z');
    expect(past.stdout).toContain('rebuilt from the ledger 140 · open lots 140 · no stored balance for a past instant · shown balance 40 → match');
    expect(past.stdout).toContain('past expiry, not shown');
  });

  it('user history --from/--to: local dates or instants; a bad value names the option (exit 2)', async () => {
    const r = await rayon(['user', 'history', RICH.id, '--from', '2026-09-10', '--to', '2026-09-18', '--json'], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).items.map((x: { type: string }) => x.type)).toEqual(Array(8).fill('daily'));
    const bad = await rayon(['user', 'history', RICH.id, '--to', '18/09/2026'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--to must be a date (YYYY-MM-DD) or an ISO instant');
  });

  it('a tampered stored balance: explain names the difference and exits 5', async () => {
    await t.db.knex('points_balance').where({ user_id: RICH.id }).update({ balance: RICH.balance + 7 });
    try {
      const r = await rayon(['user', 'explain', RICH.id], env);
      expect(r.code).toBe(5);
      expect(r.stdout).toContain('stored balance 145 · shown balance 138 → MISMATCH');
      expect(r.stderr).toContain('error: the stored balance is 145 but the transactions add up to 138');
      const json = await rayon(['user', 'explain', RICH.id, '--json'], env);
      expect(json.code).toBe(5);
      expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, rebuilt_balance: 138, stored_balance: 145 });
    } finally {
      await t.db.knex('points_balance').where({ user_id: RICH.id }).update({ balance: RICH.balance });
    }
  });

  it('bad input: an unknown user is 4 on every support command, a bad --as-of is 2', async () => {
    for (const args of [['user', 'show', 'ghost'], ['user', 'show', 'ghost@example.org'], ['user', 'explain', 'ghost'], ['user', 'history', 'ghost']]) {
      const r = await rayon(args, env);
      expect(r.code, args.join(' ')).toBe(4);
      expect(r.stderr).toMatch(/user "ghost(@example\.org)?" not found \[NOT_FOUND\]/);
      expect(r.stdout).toBe('');
    }
    const bad = await rayon(['user', 'explain', RICH.id, '--as-of', 'yesterday'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--as-of must be an ISO instant');
  });
});
