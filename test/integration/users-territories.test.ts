import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { makeUsers } from '../helpers/fixtures.js';
import { give, rejection } from '../helpers/ledger-setup.js';
import { addUser, getUser, importUsers, setBeta, territoryCodes, parseUsersCsv, listTerritories, setTerritoryState } from '../../src/core/users/index.js';
import { assertActive, lockAccount, pointsHistory } from '../../src/core/ledger/index.js';
import { listAudit } from '../../src/core/audit/index.js';

let t: TestDb;
const NOW = new Date('2026-11-25T08:00:00Z');
const who = { now: NOW, actor: 'ops-carla' };

beforeAll(async () => {
  t = await createTestDb();
});
afterAll(async () => t?.destroy());

describe('users', () => {
  it('imports the fixture, then upserts by id', async () => {
    const k = t.db.knex;
    const file = parseUsersCsv(fs.readFileSync(path.join(__dirname, '../fixtures/users.csv')), 'users.csv', await territoryCodes(k));
    expect(await importUsers(k, file, who)).toEqual({ inserted: 10, updated: 0, unchanged: 0 });
    expect(await importUsers(k, file, who)).toEqual({ inserted: 0, updated: 0, unchanged: 10 });
    const changed = { ...file, users: file.users.map((u) => (u.id === 'u-re-0001' ? { ...u, name: 'Marie Payet-Grondin' } : u)) };
    expect(await importUsers(k, changed, who)).toEqual({ inserted: 0, updated: 1, unchanged: 9 });
    const u = await getUser(k, 'u-re-0001');
    expect(u).toMatchObject({ name: 'Marie Payet-Grondin', territory: 'RE', timezone: 'Indian/Reunion', balance: 0, lifetime_points: 0, status: 'bronze', current_streak: 0, suspended: false });
    expect(new Date(u.created_at).toISOString()).toBe('2026-01-05T08:12:00.000Z');
    expect((await listAudit(k, { action: 'user.import' })).map((a) => [a.details.inserted, a.details.updated])).toEqual([
      [0, 1],
      [10, 0],
    ]);
  });

  it('refuses an email already used by another user, whatever its case (JEAN.HOARAU@ vs jean.hoarau@)', async () => {
    const k = t.db.knex;
    const e = await rejection(k.transaction((trx) => addUser(trx, { id: 'u-re-0099', email: 'jean.hoarau@example.org', name: 'Other Jean', territory: 'RE' }, who)));
    expect(e.code).toBe('VALIDATION_ERROR');
    expect(e.message).toMatch(/^email already used by another user/);
    const e2 = await rejection(importUsers(k, { users: [{ id: 'u-re-0098', email: 'Marie.Payet@Example.org', name: 'M', territory: 'RE' }], sha256: 'x', fileName: 'f.csv' }, who));
    expect(e2.code).toBe('VALIDATION_ERROR');
    expect(await k('users').whereIn('id', ['u-re-0099', 'u-re-0098'])).toEqual([]);
    // The same user may change the case of its own email.
    const r = await k.transaction((trx) => addUser(trx, { id: 'u-re-0002', email: 'jean.hoarau@example.org', name: 'Jean Hoarau', territory: 'RE' }, who));
    expect(r.updated).toBe(1);
  });

  it('addUser validates every field; setBeta toggles once, unknown user NOT_FOUND', async () => {
    const k = t.db.knex;
    const e = await rejection(k.transaction((trx) => addUser(trx, { id: 'bad id', email: 'x', name: '', territory: 'FR' }, who)));
    expect(e.details!.map((d) => d.where)).toEqual(['id', 'email', 'name', 'territory']);
    expect(await k.transaction((trx) => setBeta(trx, 'u-mq-0001', true, who))).toBe(true);
    expect(await k.transaction((trx) => setBeta(trx, 'u-mq-0001', true, who))).toBe(false);
    expect((await rejection(k.transaction((trx) => setBeta(trx, 'ghost', true, who)))).code).toBe('NOT_FOUND');
    expect((await rejection(getUser(k, 'ghost'))).code).toBe('NOT_FOUND');
  });
});

describe('territories', () => {
  const activeError = async (userId: string) =>
    t.db.knex.transaction(async (trx) => {
      try {
        assertActive(await lockAccount(trx, userId));
        return 'active';
      } catch (err) {
        return (err as { code: string }).code;
      }
    });

  it('only RE is open after the migrations; each territory has its time zone', async () => {
    const rows = await listTerritories(t.db.knex, NOW);
    expect(rows.filter((r) => r.state === 'open').map((r) => r.code)).toEqual(['RE']);
    expect(rows).toHaveLength(11);
    expect(rows.find((r) => r.code === 'NC')).toMatchObject({ timezone: 'Pacific/Noumea', local_date: '2026-11-25' });
    expect(rows.find((r) => r.code === 'PM')).toMatchObject({ timezone: 'America/Miquelon', local_date: '2026-11-25', users: 1 });
  });

  it('launch --beta lets only beta users act; launch opens to all; unlaunch closes', async () => {
    const k = t.db.knex;
    await makeUsers(k, [{ id: 'mq-plain', territory: 'MQ' }]); // u-mq-0001 was flagged beta above
    expect(await activeError('u-mq-0001')).toBe('TERRITORY_NOT_LAUNCHED');
    expect(await setTerritoryState(k, 'MQ', 'beta', who)).toBe(true);
    expect(await setTerritoryState(k, 'MQ', 'beta', who)).toBe(false);
    expect(await activeError('u-mq-0001')).toBe('active');
    expect(await activeError('mq-plain')).toBe('TERRITORY_NOT_LAUNCHED');
    expect(await setTerritoryState(k, 'MQ', 'open', who)).toBe(true);
    expect(await activeError('mq-plain')).toBe('active');
    expect(await setTerritoryState(k, 'MQ', 'closed', who)).toBe(true);
    expect(await activeError('u-mq-0001')).toBe('TERRITORY_NOT_LAUNCHED');
    expect((await listAudit(k, { target: 'MQ' })).map((a) => a.action)).toEqual(['territory.unlaunch', 'territory.launch', 'territory.launch']);
    expect((await rejection(setTerritoryState(k, 'ZZ', 'open', who))).code).toBe('NOT_FOUND');
    expect(await activeError('u-re-0001')).toBe('active');
  });

  it('a suspended user is not active', async () => {
    const k = t.db.knex;
    await k('suspensions').insert({ user_id: 'u-re-0002', reason: 'test', actor: 'ops', started_at: NOW });
    expect(await activeError('u-re-0002')).toBe('ACCOUNT_SUSPENDED');
    expect((await getUser(k, 'u-re-0002')).suspended).toBe(true);
  });
});

describe('history', () => {
  it('pages newest first, ties by id, with a type filter', async () => {
    const k = t.db.knex;
    await makeUsers(k, [{ id: 'h1' }]);
    await give(k, 'h1', 10, '2026-11-01T08:00:00Z');
    await give(k, 'h1', 20, '2026-11-02T08:00:00Z');
    await give(k, 'h1', 30, '2026-11-03T08:00:00Z');
    await give(k, 'h1', 40, '2026-11-03T08:00:00Z'); // same instant: the higher id first
    await give(k, 'h1', -5, '2026-11-04T08:00:00Z');
    const p1 = await pointsHistory(k, 'h1', { limit: 2 });
    expect([p1.page, p1.limit, p1.total]).toEqual([1, 2, 5]);
    expect(p1.items.map((i) => i.amount)).toEqual([-5, 40]);
    const p2 = await pointsHistory(k, 'h1', { limit: 2, page: 2 });
    expect(p2.items.map((i) => i.amount)).toEqual([30, 20]);
    const p3 = await pointsHistory(k, 'h1', { limit: 2, page: 3 });
    expect(p3.items.map((i) => i.amount)).toEqual([10]);
    expect((await pointsHistory(k, 'h1', { limit: 2, page: 4 })).items).toEqual([]);
    expect(p1.items[0]).toMatchObject({ type: 'adjustment', reason: 'test setup', actor: 'test', local_date: '2026-11-04', reverted: false, expires_at: null });
    expect(typeof p1.items[0].id).toBe('string');
    expect(Number(p1.items[0].id)).toBeGreaterThan(Number(p1.items[1].id));
    expect((await pointsHistory(k, 'h1', { type: 'expire' })).total).toBe(0);
    expect((await rejection(pointsHistory(k, 'h1', { limit: 101 }))).code).toBe('VALIDATION_ERROR');
    expect((await rejection(pointsHistory(k, 'h1', { page: 0 }))).code).toBe('VALIDATION_ERROR');
    expect((await rejection(pointsHistory(k, 'h1', { type: 'bogus' }))).code).toBe('VALIDATION_ERROR');
    expect((await rejection(pointsHistory(k, 'ghost'))).code).toBe('NOT_FOUND');
  });
});
