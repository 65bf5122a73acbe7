import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { makeUser } from '../helpers/fixtures.js';
import { call, makeRewards, startServer, token } from './helpers.js';

// SPEC "Security and safety" → Tokens: `service` may not read voucher codes (masked to the last
// 4 characters); only the user themself and `admin` see them whole.
const NOW = '2026-11-25T08:00:00Z';
let t: TestDb;

beforeAll(async () => {
  t = await createTestDb();
  await makeUser(t.db.knex, 'carla');
});
afterAll(async () => {
  await t?.destroy();
});

describe('voucher codes: whole for the user themself and admin, masked for a service', () => {
  const CODE = /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/;
  const masked = (code: string) => `${'*'.repeat(code.length - 4)}${code.slice(-4)}`;

  it('GET /api/rewards/history and the redeem answer', async () => {
    const s = await startServer(t.db, { now: NOW });
    try {
      const [svc, admin, carla] = await Promise.all([token('platform', 'service'), token('ops-console', 'admin'), token('carla')]);
      for (const ref of ['c-1', 'c-2']) {
        expect((await call(s.url, 'POST', '/api/points/earn', { token: svc, body: { user_id: 'carla', action_type: 'referral_signup', reference_id: ref } })).status).toBe(200);
      }
      const [byUser, bySvc] = await makeRewards(t.db.knex, [{ sku: 'VU', cost: 10 }, { sku: 'VS', cost: 10 }]);
      const mine = await call(s.url, 'POST', '/api/rewards/redeem', { token: carla, body: { reward_id: byUser } });
      expect(mine.status).toBe(200);
      expect(mine.body.redemption.voucher_code).toMatch(CODE);
      // A service redeeming on the user's behalf gets the code masked, replays included.
      const forHer = await call(s.url, 'POST', '/api/rewards/redeem', { token: svc, body: { user_id: 'carla', reward_id: bySvc }, headers: { 'idempotency-key': 'svc-1' } });
      expect(forHer.status).toBe(200);
      expect(forHer.body.redemption.voucher_code).toMatch(/^\*{15}[0-9A-Z]{4}$/);
      const replay = await call(s.url, 'POST', '/api/rewards/redeem', { token: svc, body: { user_id: 'carla', reward_id: bySvc }, headers: { 'idempotency-key': 'svc-1' } });
      expect(replay.body).toEqual(forHer.body);

      const history = async (tok: string, q = '') => (await call(s.url, 'GET', `/api/rewards/history${q}`, { token: tok })).body.items.map((i: { voucher_code: string }) => i.voucher_code);
      const whole: string[] = await history(carla);
      expect(whole).toHaveLength(2);
      for (const c of whole) expect(c).toMatch(CODE);
      expect(whole).toContain(mine.body.redemption.voucher_code);
      expect(masked(whole.find((c) => c !== mine.body.redemption.voucher_code)!)).toBe(forHer.body.redemption.voucher_code);
      expect(await history(admin, '?user_id=carla')).toEqual(whole);
      expect(await history(svc, '?user_id=carla')).toEqual(whole.map(masked));
    } finally {
      await s.close();
    }
  });
});
