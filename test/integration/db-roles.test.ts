import crypto from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestDb, describePostgresOnly, onPostgres, type TestDb } from '../helpers/db.js';
import { makeUsers } from '../helpers/fixtures.js';
import { correctionsFile, rejection } from '../helpers/ledger-setup.js';
import { call, makeRewards, startServer, token } from '../http/helpers.js';
import { openDb, type Db } from '../../src/db/connect.js';
import { applyAppRole } from '../../src/db/roles.js';
import { collectDaily, earn } from '../../src/core/earning/index.js';
import { adjustPoints, applyCorrections, revert } from '../../src/core/corrections/index.js';
import { approveRedemption, redeem, rejectRedemption } from '../../src/core/redemption/index.js';
import { expirePoints, readBalance, pointsHistory, verifyLedger } from '../../src/core/ledger/index.js';
import { catalogPage } from '../../src/core/catalog/index.js';
import { addRequestStats } from '../../src/core/ops/index.js';
import { liftUser, scanFraud, suspendUser } from '../../src/core/fraud/index.js';

/**
 * `rayon db roles` (SPEC "Security and safety" → Database roles): the main paths of `rayon serve`
 * and the jobs run as the app role — through the real core functions and the HTTP mode — and the
 * database itself refuses that role any edit of the ledger, the keys, the audit log, any trigger
 * change and any DDL. Roles are cluster-wide: each run makes its own and drops it at the end.
 */

const NOW = new Date('2026-11-25T08:00:00Z');
const ROLE = `rayon_app_t_${process.pid}_${crypto.randomBytes(3).toString('hex')}`;
let t: TestDb;
let owner: Knex;
let app: Db;
let k: Knex;
let rewards: { instant: number; manual: number };

const urlAs = (url: string, role: string) => {
  const u = new URL(url);
  u.username = role;
  u.password = '';
  return u.toString();
};
const refusal = async (sql: string) => {
  const e = await rejection(k.raw(sql));
  return { code: (e as { code?: string }).code, message: e.message.slice(e.message.lastIndexOf(' - ') + 3) };
};

beforeAll(async () => {
  if (!onPostgres()) return;
  t = await createTestDb();
  owner = t.db.knex;
  await makeUsers(owner, ['ana', 'ben', 'dan'].map((id) => ({ id })));
  const [instant, manual] = await makeRewards(owner, [
    { sku: 'ROLE-INSTANT', cost: 50, stock: 10, fulfilment: 'instant' },
    { sku: 'ROLE-MANUAL', cost: 40, stock: 2, fulfilment: 'manual' },
  ]);
  rewards = { instant, manual };
  await applyAppRole(owner, { role: ROLE, actor: 'test-dba', now: NOW });
  app = await openDb({ databaseUrl: urlAs(t.url!, ROLE), dataDir: '' });
  k = app.knex;
});
afterAll(async () => {
  await app?.close();
  if (owner) {
    for (const r of [ROLE, `${ROLE}_own`]) {
      if ((await owner.raw('select 1 from pg_roles where rolname = ?', [r])).rows.length) await owner.raw(`drop owned by ${r}; drop role ${r}`);
    }
  }
  await t?.destroy();
});

describePostgresOnly('the app role of rayon db roles', 'roles need a PostgreSQL server', () => {
  it('connects as the role, which owns nothing and is no superuser', async () => {
    const me = (await k.raw('select current_user as u, (select rolsuper from pg_roles where rolname = current_user) as su')).rows[0];
    expect(me).toEqual({ u: ROLE, su: false });
  });

  it('runs the ledger jobs through the core: adjust, correct, revert, collect, earn, redeem, approve, reject, expiry, stats', async () => {
    const ops = { actor: 'ops:zoe' };
    // Lots credited a year ago: due now, expired inline by ana's next debit and by the run for dan.
    await adjustPoints(k, { userId: 'ana', amount: 100, reason: 'old promo' }, { now: new Date('2025-11-20T08:00:00Z'), ...ops });
    await adjustPoints(k, { userId: 'dan', amount: 30, reason: 'old promo' }, { now: new Date('2025-11-10T08:00:00Z'), ...ops });
    const welcome = await adjustPoints(k, { userId: 'ana', amount: 500, reason: 'welcome', ticket: 'T-1' }, { now: NOW, ...ops });
    const file = await applyCorrections(k, correctionsFile(['ben,300,promo,,r1', 'ben,-20,fix,,r2']), { now: NOW, ...ops });
    expect(file.applied.map((a) => a.applied)).toEqual([300, -20]);
    expect((await revert(k, String(welcome.transactionId), { reason: 'duplicate', now: NOW, ...ops })).items[0].taken).toBe(500);
    expect((await revert(k, file.batchId!, { reason: 'wrong file', now: NOW, ...ops })).items).toHaveLength(2);

    expect(await collectDaily(k, 'ana', NOW, { actor: 'user:ana' })).toMatchObject({ points_awarded: 10 });
    expect(await earn(k, 'ana', 'transaction_completed', 'order-1', NOW, { actor: 'service:marketplace' })).toMatchObject({ points_awarded: 50, replay: false });
    expect(await earn(k, 'ben', 'review_posted', 'rev-1', NOW, { actor: 'user:ben' })).toMatchObject({ points_awarded: 10 });

    // ana's 100 old points are due: the redeem expires them first (actor system:expiry), then spends.
    const instant = await redeem(k, 'ana', rewards.instant, NOW, { actor: 'user:ana', idempotencyKey: 'tap-1' });
    expect(instant.redemption).toMatchObject({ status: 'fulfilled', points_spent: 50 });
    expect((await redeem(k, 'ana', rewards.instant, NOW, { actor: 'user:ana', idempotencyKey: 'tap-1' })).redemption.id).toBe(instant.redemption.id);
    expect(await k('points_transactions').where({ user_id: 'ana', type: 'expire' }).pluck('actor')).toEqual(['system:expiry']);
    await adjustPoints(k, { userId: 'ben', amount: 200, reason: 'goodwill' }, { now: NOW, ...ops });
    const m1 = await redeem(k, 'ben', rewards.manual, NOW, { actor: 'service:checkout' });
    const m2 = await redeem(k, 'ben', rewards.manual, NOW, { actor: 'user:ben' });
    // Its last unit: the sold-out trigger flips the catalog offers, with the role's privileges.
    expect(await owner('catalog_offers').where({ territory_code: 'RE', reward_id: rewards.manual }).pluck('sold_out')).toEqual([true]);
    expect(await approveRedemption(k, m1.redemption.id, { now: NOW, ...ops })).toMatchObject({ status: 'fulfilled' });
    expect(await rejectRedemption(k, m2.redemption.id, { now: NOW, reason: 'no stock at partner', ...ops })).toMatchObject({ status: 'rejected', points_refunded: 40 });
    expect(await owner('catalog_offers').where({ territory_code: 'RE', reward_id: rewards.manual }).pluck('sold_out')).toEqual([false]);

    expect(await expirePoints(k, { asOf: NOW, now: NOW, actor: 'cron' })).toMatchObject({ users: 1, points: 30 });
    await addRequestStats(k, [{ bucket_start: new Date('2026-11-25T08:00:00Z'), route: 'balance', status_class: '2xx', requests: 2, duration_us_sum: 900, bucket_counts: [2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] }]);
    await addRequestStats(k, [{ bucket_start: new Date('2026-11-25T08:00:00Z'), route: 'balance', status_class: '2xx', requests: 1, duration_us_sum: 100, bucket_counts: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] }]);
    expect(await owner('http_request_stats').where({ route: 'balance' }).first('requests')).toEqual({ requests: 3 });

    expect((await readBalance(k, 'ana', NOW)).balance).toBe(10 + 50 - 50);
    expect((await pointsHistory(k, 'ana', { page: 1, limit: 50 })).total).toBeGreaterThan(5);
    expect((await catalogPage(k, { territory: 'RE', page: 1, limit: 20, now: NOW })).total).toBe(2);
  });

  it('serves the HTTP mode: users, collect, earn, balance, history, streak, catalog, redeem, rewards history; flushes request stats', async () => {
    const s = await startServer(app, { now: NOW.toISOString() });
    try {
      const svc = await token('checkout', 'service');
      const created = await call(s.url, 'POST', '/api/users', { token: svc, body: { id: 'eve', email: 'eve@example.org', name: 'Eve', territory: 'RE' } });
      expect(created.status).toBe(200);
      const renamed = await call(s.url, 'POST', '/api/users', { token: svc, body: { id: 'eve', email: 'eve@example.org', name: 'Eve R.', territory: 'RE' } });
      expect(renamed.body).toMatchObject({ name: 'Eve R.', created: false });
      const eve = await token('eve');
      expect((await call(s.url, 'POST', '/api/points/collect-daily', { token: eve })).body).toMatchObject({ points_awarded: 10, balance: 10 });
      const earned = await call(s.url, 'POST', '/api/points/earn', { token: svc, body: { user_id: 'eve', action_type: 'referral_signup', reference_id: 'ref-9' } });
      expect(earned.body).toMatchObject({ points_awarded: 200, balance: 210, replay: false });
      for (const path of ['/api/points/balance', '/api/points/history', '/api/streaks/status', '/api/rewards/catalog', '/api/rewards/history', '/healthz']) {
        expect((await call(s.url, 'GET', path, { token: eve })).status).toBe(200);
      }
      const tap = { token: eve, body: { reward_id: rewards.instant }, headers: { 'idempotency-key': 'eve-tap' } };
      const r1 = await call(s.url, 'POST', '/api/rewards/redeem', tap);
      expect(r1.body).toMatchObject({ redemption: { status: 'fulfilled', points_spent: 50 }, balance: 160 });
      expect((await call(s.url, 'POST', '/api/rewards/redeem', tap)).body).toEqual(r1.body);
      const r2 = await call(s.url, 'POST', '/api/rewards/redeem', { token: svc, body: { user_id: 'eve', reward_id: rewards.manual } });
      expect(r2.body).toMatchObject({ redemption: { status: 'pending' }, balance: 120 });
      expect((await call(s.url, 'GET', '/api/rewards/history', { token: eve })).body.total).toBe(2);
    } finally {
      await s.close(); // flushes the request statistics, as the role
    }
    expect(Number((await owner('http_request_stats').where('route', 'redeem').sum({ n: 'requests' }))[0].n)).toBe(3);
  });

  it('the ledger verifies, read as the role: every row audited or exempt by the audit rule', async () => {
    const v = await verifyLedger(k);
    expect(v.discrepancies).toEqual([]);
    const by = Object.fromEntries(v.audit.map((a) => [a.type, a]));
    expect(by.daily).toMatchObject({ self: 2, missing: 0 }); // ana and eve, on their own accounts
    expect(by.earn).toMatchObject({ audited: 2, self: 1, missing: 0 });
    expect(by.redeem).toMatchObject({ audited: 2, self: 3, missing: 0 }); // the services' are audited, the users' are their own record
    expect(by.expire).toMatchObject({ audited: 1, inline_expiry: 1, missing: 0 });
    expect(by.refund).toMatchObject({ audited: 1, missing: 0 });
  });

  it('runs the scheduled fraud scan (cases opened, then refreshed) and a suspension with void, lifted with restore', async () => {
    // One operator credits 25,000 points in a day: operator_adjustments opens a case, a rescan refreshes it.
    await adjustPoints(k, { userId: 'ben', amount: 25_000, reason: 'promo' }, { now: NOW, actor: 'ops:mallory' });
    const window = { since: new Date('2026-11-24T08:00:00Z'), until: NOW };
    const first = await scanFraud(k, { window, rules: ['operator_adjustments'], actor: 'cron', now: NOW });
    expect(first.findings.map((f) => [f.user_id, f.change])).toEqual([['operator:ops:mallory', 'opened']]);
    const again = await scanFraud(k, { window, rules: ['operator_adjustments'], actor: 'cron', now: new Date(NOW.getTime() + 60_000) });
    expect(again.findings.map((f) => [f.user_id, f.change])).toEqual([['operator:ops:mallory', 'refreshed']]);

    const balance = (await readBalance(k, 'ben', NOW)).balance;
    expect(balance).toBeGreaterThan(25_000);
    const s = await suspendUser(k, { userId: 'ben', reason: 'promo abuse', actor: 'ops:zoe', voidPoints: true, now: NOW });
    expect(s).toMatchObject({ noop: false, voided: { points: balance } });
    expect((await readBalance(k, 'ben', NOW)).balance).toBe(0);
    const l = await liftUser(k, { userId: 'ben', reason: 'cleared', actor: 'ops:zoe', restorePoints: true, now: NOW });
    expect(l).toMatchObject({ noop: false, points_restored: balance, points_left_voided: 0 });
    expect((await readBalance(k, 'ben', NOW)).balance).toBe(balance);
    expect((await verifyLedger(k, { userId: 'ben' })).discrepancies).toEqual([]);
  });

  it('the database refuses the role any edit of the ledger, keys and audit log, trigger changes and DDL', async () => {
    const denied = (table: string) => ({ code: '42501', message: `permission denied for table ${table}` });
    expect(await refusal('update points_transactions set amount = 1')).toEqual(denied('points_transactions'));
    expect(await refusal('delete from points_transactions')).toEqual(denied('points_transactions'));
    expect(await refusal('delete from audit_log')).toEqual(denied('audit_log'));
    expect(await refusal('update audit_log set actor = actor')).toEqual(denied('audit_log'));
    expect(await refusal('alter table points_transactions disable trigger all')).toEqual({ code: '42501', message: 'must be owner of table points_transactions' });
    expect(await refusal('truncate points_transactions')).toEqual(denied('points_transactions'));
    expect(await refusal("update idempotency_keys set key = 'x'")).toEqual(denied('idempotency_keys'));
    expect(await refusal('delete from lot_allocations')).toEqual(denied('lot_allocations'));
    expect(await refusal('update points_lots set amount = 1')).toEqual(denied('points_lots')); // only `remaining` is the role's
    expect(await refusal('create table x()')).toEqual({ code: '42501', message: 'permission denied for schema public' });
    expect(await refusal('drop trigger points_transactions_append_only on points_transactions')).toEqual({ code: '42501', message: 'must be owner of relation points_transactions' });
    // Turning triggers off for the session needs a superuser.
    expect(await refusal('set session_replication_role = replica')).toEqual({ code: '42501', message: 'permission denied to set parameter "session_replication_role"' });
  });

  it('run again: idempotent, and it takes back what drifted in (grants, memberships, PUBLIC)', async () => {
    await owner.raw(`grant delete, truncate on points_transactions to ${ROLE}; grant update on audit_log to ${ROLE}; grant create on schema public to public; grant select, update on points_lots to public`);
    expect((await k.raw('delete from points_transactions where false')).rowCount).toBe(0); // drifted: allowed now
    const r = await applyAppRole(owner, { role: ROLE, actor: 'test-dba', now: NOW });
    expect(r.created).toBe(false);
    expect([...r.revoked].sort()).toEqual(['PUBLIC CREATE on schema public', 'PUBLIC on points_lots', 'table audit_log: UPDATE', 'table points_transactions: DELETE, TRUNCATE']);
    expect((await refusal('delete from points_transactions where false')).code).toBe('42501');
    expect((await refusal('create table x()')).code).toBe('42501');
    expect(r.grants.find((g) => g.object === 'table points_lots')).toEqual({ object: 'table points_lots', privileges: ['SELECT', 'INSERT', 'UPDATE(remaining)'] });
    expect((await applyAppRole(owner, { role: ROLE, actor: 'test-dba', now: NOW })).revoked).toEqual([]);
    const audited = await owner('audit_log').where({ action: 'db.roles', target: `role:${ROLE}` }).orderBy('id').select('actor', 'details');
    expect(audited).toHaveLength(3);
    expect(audited[1]).toMatchObject({ actor: 'test-dba', details: { created: false, password: 'unchanged', revoked: r.revoked } });
  });

  it('refuses a role that owns objects, the role running the command, and a bad name', async () => {
    const own = `${ROLE}_own`;
    await owner.raw(`create role ${own}; create table role_owned_probe (x int); alter table role_owned_probe owner to ${own}`);
    const e = await rejection(applyAppRole(owner, { role: own, actor: 'test-dba', now: NOW }));
    expect(e).toMatchObject({ code: 'INVALID_STATE', message: expect.stringContaining(`role ${own} owns table role_owned_probe`) });
    await owner.raw(`drop table role_owned_probe`);
    const me = (await owner.raw('select current_user as u')).rows[0].u;
    expect(await rejection(applyAppRole(owner, { role: me, actor: 'x', now: NOW }))).toMatchObject({ code: 'INVALID_STATE' });
    for (const bad of ['Rayon', 'pg_app', '1app', 'a;drop', 'x'.repeat(64)]) {
      expect(await rejection(applyAppRole(owner, { role: bad, actor: 'x', now: NOW }))).toMatchObject({ code: 'VALIDATION_ERROR' });
    }
    expect(await rejection(applyAppRole(owner, { role: ROLE, password: 'short', actor: 'x', now: NOW }))).toMatchObject({ code: 'VALIDATION_ERROR' });
  });
});
