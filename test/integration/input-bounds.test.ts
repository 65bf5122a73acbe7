import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { makeUser } from '../helpers/fixtures.js';
import { earn } from '../../src/core/earning/index.js';
import { adjustPoints } from '../../src/core/corrections/index.js';
import { pointsHistory } from '../../src/core/ledger/index.js';
import { listRedemptions, userRedemptions } from '../../src/core/redemption/index.js';
import { catalogPage, listCatalog } from '../../src/core/catalog/index.js';
import { failure } from '../helpers/failure.js';

let t: TestDb;
let k: Knex;
const NOW = new Date('2026-11-25T08:00:00Z');

beforeAll(async () => {
  t = await createTestDb();
  k = t.db.knex;
});
afterAll(async () => t?.destroy());

const count = async (table: string, where: Record<string, unknown>) => Number((await k(table).where(where).count({ n: '*' }).first())!.n);

describe('earn: reference_id compared after NFKC normalisation, invisible characters removed', () => {
  it('r1, r1 with a zero-width space and r1 wrapped in bidi controls are credited once; the replay answers the first', async () => {
    await makeUser(k, 'n1');
    const first = await earn(k, 'n1', 'listing_created', 'r1', NOW, { actor: 'service:test' });
    const zw = await earn(k, 'n1', 'listing_created', 'r1\u200b', NOW);
    const bidi = await earn(k, 'n1', 'listing_created', '\u202er1\u202c', NOW);
    expect(first.replay).toBe(false);
    expect(zw).toEqual({ ...first, replay: true });
    expect(bidi).toEqual({ ...first, replay: true });
    const rows = await k('points_transactions').where({ user_id: 'n1', type: 'earn' });
    expect(rows.map((r) => [r.reference_id, r.idempotency_key])).toEqual([['r1', 'earn:n1:listing_created:r1']]);
  });

  it('a decomposed spelling (cafe + combining acute) is the composed one: one credit, stored in NFC/NFKC form', async () => {
    await makeUser(k, 'n2');
    const composed = await earn(k, 'n2', 'review_posted', 'caf\u00e9', NOW);
    const decomposed = await earn(k, 'n2', 'review_posted', 'cafe\u0301', NOW);
    expect(decomposed).toEqual({ ...composed, replay: true });
    expect(await count('points_transactions', { user_id: 'n2' })).toBe(1);
    expect((await k('idempotency_keys').where({ user_id: 'n2' }).first()).key).toBe('earn:n2:review_posted:caf\u00e9');
  });

  it('caps count normalised references, and the refused-earn record keeps the normalised form', async () => {
    await makeUser(k, 'n3');
    expect((await earn(k, 'n3', 'profile_completed', 'p\u200b1', NOW)).replay).toBe(false);
    // Same reference in another spelling: a replay, not a cap refusal.
    expect((await earn(k, 'n3', 'profile_completed', '\ufeffp1', NOW)).replay).toBe(true);
    expect(await count('refused_earns', { user_id: 'n3' })).toBe(0);
    const capped = await failure(earn(k, 'n3', 'profile_completed', 'p2\u2060', NOW));
    expect(capped.code).toBe('CAP_REACHED');
    const refused = await k('refused_earns').where({ user_id: 'n3' });
    expect(refused.map((r) => [r.reference_id, r.reason])).toEqual([['p2', 'CAP_REACHED']]);
  });

  it('a reference empty once normalised, over 128 characters or with control characters is VALIDATION_ERROR naming reference_id, nothing written', async () => {
    await makeUser(k, 'n4');
    for (const bad of ['\u200b\u200c', '\u202e', 'x'.repeat(129), 'a\u001b[2Jb', 'a\u0085b']) {
      const e = await failure(earn(k, 'n4', 'listing_created', bad, NOW));
      expect(e.code, JSON.stringify(bad)).toBe('VALIDATION_ERROR');
      expect(e.details?.map((d) => d.where)).toEqual(['reference_id']);
    }
    expect(await count('points_transactions', { user_id: 'n4' })).toBe(0);
    expect(await count('refused_earns', { user_id: 'n4' })).toBe(0);
    // 128 visible characters plus invisible ones fit.
    expect((await earn(k, 'n4', 'listing_created', `${'x'.repeat(128)}\u200b`, NOW)).replay).toBe(false);
  });
});

describe('amounts beyond the ledger integer range are VALIDATION_ERROR, never INTERNAL', () => {
  it('points adjust refuses 3,000,000,000 before any write, naming amount', async () => {
    await makeUser(k, 'a1');
    const e = await failure(adjustPoints(k, { userId: 'a1', amount: 3_000_000_000, reason: 'x' }, { now: NOW, actor: 'ops' }));
    expect([e.code, e.details?.[0].where]).toEqual(['VALIDATION_ERROR', 'amount']);
    expect(await count('correction_batches', {})).toBe(0);
  });

  it('a credit that would take a balance past 2,147,483,647 is refused naming amount, and rolls back', async () => {
    await makeUser(k, 'a2');
    await adjustPoints(k, { userId: 'a2', amount: 2_100_000_000, reason: 'seed' }, { now: NOW, actor: 'ops' });
    const e = await failure(adjustPoints(k, { userId: 'a2', amount: 100_000_000, reason: 'more' }, { now: NOW, actor: 'ops' }));
    expect(e.code).toBe('VALIDATION_ERROR');
    expect(e.details?.[0].where).toBe('amount');
    expect(e.message).toMatch(/beyond 2147483647/);
    expect(await count('points_transactions', { user_id: 'a2' })).toBe(1);
    expect((await k('points_balance').where({ user_id: 'a2' }).first()).balance).toBe(2_100_000_000);
  });
});

describe('every paged list refuses page × limit deeper than 10,000 rows', () => {
  it('points history, redemptions (all and one user\'s), the catalog page and the ops catalog list', async () => {
    await makeUser(k, 'p1');
    const deep = [
      pointsHistory(k, 'p1', { page: 1_000_000, limit: 20 }),
      pointsHistory(k, 'p1', { page: 101, limit: 100 }),
      listRedemptions(k, { page: 11, limit: 1000 }),
      // Paging is checked before the user is looked up: an unknown user is not the answer.
      userRedemptions(k, 'nobody', { page: 1_000_000, limit: 20 }),
      catalogPage(k, { territory: 'RE', page: 1_000_000, limit: 20, now: NOW }),
      listCatalog(k, { page: 201, limit: 50, now: NOW }),
    ];
    for (const p of deep) {
      const e = await failure(p);
      expect(e.code).toBe('VALIDATION_ERROR');
      expect(e.message).toMatch(/^page [\d,]+ × limit \d+ reaches row [\d,]+: lists go at most 10,000 rows deep/);
      expect(e.details).toEqual([{ where: 'page', message: 'page × limit must be at most 10000' }]);
    }
    // The deepest allowed page still answers.
    expect((await pointsHistory(k, 'p1', { page: 100, limit: 100 })).items).toEqual([]);
    expect((await listCatalog(k, { page: 10, limit: 1000, now: NOW })).items).toEqual([]);
  });
});
