import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { makeUser } from '../helpers/fixtures.js';
import { call, startServer, token, type Running } from './helpers.js';

const NOW = '2026-11-25T08:00:00Z';
let t: TestDb;
let s: Running;
let svc: string;

beforeAll(async () => {
  t = await createTestDb();
  s = await startServer(t.db, { now: NOW });
  await makeUser(t.db.knex, 'alice');
  svc = await token('checkout', 'service');
});
afterAll(async () => {
  await s?.close();
  await t?.destroy();
});

const earnRows = async (user: string) => t.db.knex('points_transactions').where({ user_id: user, type: 'earn' }).select('reference_id', 'idempotency_key');

describe('HTTP input bounds', () => {
  it('earn: r1, r1 + zero-width space and r1 in bidi controls are one reference, credited once', async () => {
    const body = (reference_id: string) => ({ user_id: 'alice', action_type: 'listing_created', reference_id });
    const first = await call(s.url, 'POST', '/api/points/earn', { token: svc, body: body('r1') });
    const zw = await call(s.url, 'POST', '/api/points/earn', { token: svc, body: body('r1\u200b') });
    const bidi = await call(s.url, 'POST', '/api/points/earn', { token: svc, body: body('\u2066r1\u2069') });
    expect(first.status).toBe(200);
    expect(first.body.replay).toBe(false);
    expect(zw.body).toEqual({ ...first.body, replay: true });
    expect(bidi.body).toEqual({ ...first.body, replay: true });
    expect(await earnRows('alice')).toEqual([{ reference_id: 'r1', idempotency_key: 'earn:alice:listing_created:r1' }]);
  });

  it('earn: a reference that is only invisible characters, or has a C1 control, is 400 naming reference_id', async () => {
    for (const reference_id of ['\u200b\u200d', 'a\u009bb']) {
      const a = await call(s.url, 'POST', '/api/points/earn', { token: svc, body: { user_id: 'alice', action_type: 'review_posted', reference_id } });
      expect(a.status, JSON.stringify(reference_id)).toBe(400);
      expect(a.body.error.code).toBe('VALIDATION_ERROR');
      expect(a.body.error.message).toMatch(/reference_id/);
    }
    expect(await earnRows('alice')).toHaveLength(1);
  });

  it('page=1000000 is 400 VALIDATION_ERROR naming page and the maximum depth on every paged route', async () => {
    const alice = await token('alice');
    for (const path of ['/api/points/history?page=1000000', '/api/rewards/catalog?page=1000000', '/api/rewards/history?page=1000000', '/api/points/history?page=101&limit=100']) {
      const a = await call(s.url, 'GET', path, { token: alice });
      expect(a.status, path).toBe(400);
      expect(a.body).toEqual({ error: { code: 'VALIDATION_ERROR', message: expect.stringMatching(/^page [\d,]+ × limit \d+ reaches row [\d,]+: lists go at most 10,000 rows deep/) } });
    }
    const systems = await call(s.url, 'GET', '/api/rewards/catalog?territory_id=RE&page=1000000', { token: svc });
    expect(systems.status).toBe(400);
    const last = await call(s.url, 'GET', '/api/points/history?page=100&limit=100', { token: alice });
    expect([last.status, last.body.items]).toEqual([200, []]);
  });
});
