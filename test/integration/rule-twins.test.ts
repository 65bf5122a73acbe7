import fc from 'fast-check';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { makeReward } from '../helpers/catalog-setup.js';
import { scaleAt, scaleVersionAtSql, versionInForce } from '../../src/core/scale/index.js';
import { dueLotsSql, duePoints } from '../../src/core/ledger/index.js';
import { actsOnOwnAccount, actsOnOwnAccountSql } from '../../src/core/audit/index.js';
import { availableNow, availableNowSql, offerAvailableSql, type OfferFacts } from '../../src/core/catalog/index.js';

/**
 * Rules that run in SQL for speed keep one TypeScript home; each SQL face is pinned here to its
 * TypeScript twin on random data (written in a transaction that is rolled back after each case):
 * the scale version in force, the due points of the shown balance, "acts on their own account"
 * (the audit decision `ledger verify` checks), and "available now" — over the rewards row and
 * over the catalog_offers rows the offers triggers maintain.
 */
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

let t: TestDb;
let k: Knex;
let territories: string[];
beforeAll(async () => {
  t = await createTestDb(2);
  k = t.db.knex;
  territories = (await k('territories').select('code').orderBy('code')).map((r: { code: string }) => r.code);
});
afterAll(async () => {
  await t?.destroy();
});

const ROLLBACK = new Error('rollback');
/** Run `fn` in a transaction that is always rolled back. */
async function rolledBack(fn: (trx: Knex.Transaction) => Promise<void>): Promise<void> {
  await k
    .transaction(async (trx) => {
      await fn(trx);
      throw ROLLBACK;
    })
    .catch((err) => {
      if (err !== ROLLBACK) throw err;
    });
}

const DAY0 = Date.UTC(2026, 0, 1);
/** A date within about two months, as YYYY-MM-DD (small so that dates collide often). */
const day = fc.integer({ min: 0, max: 60 }).map((d) => new Date(DAY0 + d * 86_400_000).toISOString().slice(0, 10));

describe('the scale version in force: scaleVersionAtSql and scaleAt agree with versionInForce', () => {
  it('on random versions (ties on a date included) and random dates', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(day, { maxLength: 8 }), fc.array(day, { minLength: 1, maxLength: 6 }), async (effective, dates) => {
        await rolledBack(async (trx) => {
          const seeded = await trx('scale_versions').select('version', 'effective_from', 'document');
          const top = Math.max(...seeded.map((v: { version: number }) => v.version));
          const rows = effective.map((e, i) => ({ version: top + i + 1, effective_from: e, document: JSON.stringify(seeded[0].document), actor: 'test', reason: 'twin' }));
          if (rows.length) await trx('scale_versions').insert(rows);
          const all = (await trx('scale_versions').select('version', 'effective_from')).map((v: { version: number; effective_from: unknown }) => ({
            version: Number(v.version),
            effective_from: String(v.effective_from),
          }));
          for (const d of dates) {
            const expected = versionInForce(all, d).version;
            const { rows: got } = await trx.raw(`select ${scaleVersionAtSql('?::date')} as version`, [d]);
            expect(got[0].version, d).toBe(expected);
            expect((await scaleAt(trx, d)).version, d).toBe(expected);
          }
          // Before every version: none in force, in both faces.
          const { rows: none } = await trx.raw(`select ${scaleVersionAtSql('?::date')} as version`, ['1999-12-31']);
          expect(none[0].version).toBeNull();
          expect(() => versionInForce(all, '1999-12-31')).toThrow(/no scale version in force/);
        });
      }),
      { numRuns: 40 },
    );
  });
});

describe('the shown balance: dueLotsSql agrees with duePoints', () => {
  const NOW = new Date('2026-03-01T12:00:00Z');
  const lot = fc.record({
    amount: fc.integer({ min: 1, max: 500 }),
    spent: fc.integer({ min: 0, max: 500 }),
    // Around now, to the second, `now` itself included.
    offsetS: fc.oneof(fc.constant(0), fc.integer({ min: -86_400, max: 86_400 })),
  });
  it('on random lots, spent or not, expiring before, at or after now', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(lot, { maxLength: 10 }), async (specs) => {
        await rolledBack(async (trx) => {
          await trx('users').insert({ id: 'twin', email: 'twin@example.org', name: 'Twin', territory_code: 'RE' });
          const lots = [];
          for (const [i, s] of specs.entries()) {
            const [{ id }] = await trx('points_transactions')
              .insert({ user_id: 'twin', type: 'adjustment', amount: s.amount, created_at: NOW, local_date: '2026-03-01', territory_code: 'RE', idempotency_key: `twin:${i}` })
              .returning('id');
            const l = { remaining: Math.max(0, s.amount - s.spent), expires_at: new Date(NOW.getTime() + s.offsetS * 1000) };
            await trx('points_lots').insert({ user_id: 'twin', transaction_id: id, amount: s.amount, remaining: l.remaining, credited_at: NOW, expires_at: l.expires_at });
            lots.push(l);
          }
          const { rows } = await trx.raw(`select ${dueLotsSql('?', '?')} as due`, ['twin', NOW]);
          expect(rows[0].due).toBe(duePoints(lots, NOW));
        });
      }),
      { numRuns: 40 },
    );
  });
});

describe('the audit decision: actsOnOwnAccountSql agrees with actsOnOwnAccount', () => {
  const text = fc.string({ maxLength: 12 }).filter((s) => !s.includes('\u0000'));
  it('on random actors and users, own-account actors included', async () => {
    const pair = fc.oneof(
      fc.tuple(text, text),
      text.map((u) => [`user:${u}`, u] as [string, string]),
      fc.tuple(fc.constantFrom('service:', 'admin:', 'user:', 'USER:', 'user: '), text).map(([p, u]) => [`${p}${u}`, u] as [string, string]),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(pair, { minLength: 1, maxLength: 20 }), async (pairs) => {
        const { rows } = await k.raw(
          `select coalesce(${actsOnOwnAccountSql("(e.v->>'actor')", "(e.v->>'user_id')")}, false) as own
             from jsonb_array_elements(?::jsonb) with ordinality as e(v, n) order by e.n`,
          [JSON.stringify(pairs.map(([actor, user_id]) => ({ actor, user_id })))],
        );
        expect(rows.map((r: { own: boolean }) => r.own)).toEqual(pairs.map(([a, u]) => actsOnOwnAccount(a, u)));
      }),
      { numRuns: 30 },
    );
  });
});

describe('"available now": availableNowSql and the offers triggers agree with availableNow', () => {
  const reward = fc.record({
    active: fc.boolean(),
    all: fc.boolean(),
    pick: fc.array(fc.nat(), { maxLength: 3 }),
    from: day,
    length: fc.integer({ min: 0, max: 30 }),
    stock: fc.option(fc.integer({ min: 0, max: 3 })),
    taken: fc.integer({ min: 0, max: 3 }),
    // A change after the insert, through the update triggers (the sold-out flip among them).
    change: fc.constantFrom('none', 'sell_out', 'restock', 'deactivate', 'reactivate', 'move'),
  });
  it('on random rewards, changed after insert, for every territory and random dates', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(reward, { minLength: 1, maxLength: 6 }), fc.array(day, { minLength: 1, maxLength: 4 }), async (specs, dates) => {
        await rolledBack(async (trx) => {
          for (const [i, s] of specs.entries()) {
            const codes = [...new Set(s.pick.map((p) => territories[p % territories.length]))].sort();
            const to = new Date(Date.parse(s.from) + s.length * 86_400_000).toISOString().slice(0, 10);
            const stock = s.stock ?? null;
            const id = await makeReward(trx, `TWIN-${i}`, {
              active: s.change === 'reactivate' ? false : s.active,
              territories: s.all ? '*' : codes,
              available_from: s.from,
              available_to: to,
              stock,
            });
            const taken = stock === null ? s.taken : Math.min(s.taken, stock);
            if (taken) await trx('rewards').where({ id }).update({ units_taken: taken });
            if (s.change === 'sell_out' && stock !== null) await trx('rewards').where({ id }).update({ units_taken: stock });
            if (s.change === 'restock' && stock !== null) await trx('rewards').where({ id }).update({ stock: stock + 1 });
            if (s.change === 'deactivate') await trx('rewards').where({ id }).update({ active: false });
            if (s.change === 'reactivate') await trx('rewards').where({ id }).update({ active: true });
            if (s.change === 'move') await trx('rewards').where({ id }).update({ all_territories: !s.all, territories: s.all ? (codes.length ? codes : [territories[0]]) : [] });
          }
          const rows = (await trx('rewards').select('id', 'active', 'all_territories', 'territories', 'available_from', 'available_to', 'stock', 'units_taken')) as Array<
            OfferFacts & { id: number }
          >;
          for (const territory of territories) {
            for (const d of dates) {
              const expected = rows.filter((r) => availableNow(r, territory, d)).map((r) => Number(r.id)).sort((a, b) => a - b);
              const viaRewards = await trx.raw(`select r.id from rewards r where ${availableNowSql('r', '?', '?::date')} order by r.id`, [territory, d]);
              const viaOffers = await trx.raw(`select o.reward_id as id from catalog_offers o where ${offerAvailableSql('o', '?', '?::date')} order by o.reward_id`, [territory, d]);
              expect(viaRewards.rows.map((r: { id: unknown }) => Number(r.id)), `${territory} ${d} (rewards)`).toEqual(expected);
              expect(viaOffers.rows.map((r: { id: unknown }) => Number(r.id)), `${territory} ${d} (catalog_offers)`).toEqual(expected);
            }
          }
        });
      }),
      { numRuns: 30 },
    );
  });
});
