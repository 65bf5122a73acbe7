import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { makeReward } from '../helpers/catalog-setup.js';
import { CatalogTotals, catalogPage } from '../../src/core/catalog/index.js';

// The app's catalog page: items come from an index scan that stops after the page, the total
// from a count that the HTTP mode may reuse for a few seconds. Both checked against a plain
// reading of the rules over the whole catalog.
const NOW = new Date('2026-11-25T08:00:00Z'); // 12:00 in La Réunion
let t: TestDb;
const expected: number[] = [];

beforeAll(async () => {
  t = await createTestDb();
  const k = t.db.knex;
  for (let i = 0; i < 60; i++) {
    const kind = i % 6;
    const id = await makeReward(k, `B-${i}`, {
      territories: kind === 1 ? '*' : kind === 2 ? ['GP'] : ['RE', 'GP'],
      available_from: kind === 3 ? '2026-11-26' : '2026-01-01',
      stock: kind === 4 ? 1 : null,
      active: kind !== 5 || i % 12 !== 5,
    });
    if (kind === 4 && i % 12 === 4) await k('rewards').where({ id }).update({ units_taken: 1 }); // sold out
    const inRe = kind !== 2;
    const inWindow = kind !== 3;
    const soldOut = kind === 4 && i % 12 === 4;
    const active = kind !== 5 || i % 12 !== 5;
    if (inRe && inWindow && !soldOut && active) expected.push(id);
  }
  expected.sort((a, b) => b - a);
});
afterAll(async () => t?.destroy());

describe('catalog page', () => {
  it('pages through exactly the rewards available now in the territory, newest first, with the exact total', async () => {
    const k = t.db.knex;
    const seen: number[] = [];
    for (let page = 1; page <= 5; page++) {
      const p = await catalogPage(k, { territory: 'RE', category: 'food', page, limit: 7, now: NOW });
      expect(p.total).toBe(expected.length);
      seen.push(...p.items.map((i) => i.id));
    }
    expect(seen).toEqual(expected);
    const all = await catalogPage(k, { territory: 'RE', page: 1, limit: 100, now: NOW });
    expect(all.items.map((i) => i.id)).toEqual(expected);
    expect(all.items.find((i) => i.territories[0] === '*')).toBeDefined();
    expect(await catalogPage(k, { territory: 'RE', category: 'transport', page: 1, limit: 10, now: NOW })).toMatchObject({ items: [], total: 0 });
  });

  it('a remembered total is reused until it expires; the items are always current', async () => {
    const k = t.db.knex;
    let clock = 1_000_000;
    const totals = new CatalogTotals(5_000, () => clock);
    const q = { territory: 'RE', category: 'food', page: 1, limit: 100, now: NOW };
    expect((await catalogPage(k, q, { totals })).total).toBe(expected.length);
    const gone = expected[0];
    await k('rewards').where({ id: gone }).update({ active: false });
    const cached = await catalogPage(k, q, { totals });
    expect(cached.total).toBe(expected.length); // reused
    expect(cached.items.map((i) => i.id)).toEqual(expected.slice(1)); // exact
    clock += 5_000;
    expect((await catalogPage(k, q, { totals })).total).toBe(expected.length - 1);
    // Another local date is another key: no reuse across midnight.
    const tomorrow = await catalogPage(k, { ...q, now: new Date('2026-11-25T21:00:00Z') }, { totals });
    expect(tomorrow.total).toBe(expected.length - 1 + 10); // and the 10 rewards starting on 2026-11-26
    await k('rewards').where({ id: gone }).update({ active: true });
  });

  it('a reward leaves the page when its last unit is taken and comes back with a unit or more stock', async () => {
    const k = t.db.knex;
    const q = { territory: 'RE', category: 'food', page: 1, limit: 100, now: NOW };
    const ids = async () => (await catalogPage(k, q)).items.map((i) => i.id);
    const [{ id }] = await k('rewards').where({ sku: 'B-10' }).select('id'); // stock 1, none taken
    expect(await ids()).toContain(id);
    await k('rewards').where({ id }).update({ units_taken: 1 }); // what a redemption does
    expect(await ids()).not.toContain(id);
    await k('rewards').where({ id }).update({ units_taken: 0 }); // a rejection gives it back
    expect(await ids()).toContain(id);
    await k('rewards').where({ id }).update({ units_taken: 1 });
    await k('rewards').where({ id }).update({ stock: 2 }); // an import raises the stock
    expect(await ids()).toContain(id);
    await k('rewards').where({ id }).update({ stock: 1, units_taken: 0 });
    // The derived rows match a recomputation from rewards.
    const { rows: drift } = await k.raw(`
      (select territory_code, reward_id, category_code, available_from, available_to, sold_out from catalog_offers
       except
       select t.code, r.id, r.category_code, r.available_from, r.available_to, r.stock is not null and r.units_taken >= r.stock
         from rewards r join territories t
           on r.all_territories or t.code = any(r.territories)
        where r.active)
      union all
      (select t.code, r.id, r.category_code, r.available_from, r.available_to, r.stock is not null and r.units_taken >= r.stock
         from rewards r join territories t
           on r.all_territories or t.code = any(r.territories)
        where r.active
       except
       select territory_code, reward_id, category_code, available_from, available_to, sold_out from catalog_offers)`);
    expect(drift).toEqual([]);
  });

  it('a remembered total lives between half its time to live and all of it, so totals counted together expire apart', () => {
    let clock = 0;
    const soon = new CatalogTotals(10_000, () => clock, () => 0);
    const late = new CatalogTotals(10_000, () => clock, () => 0.999);
    soon.set('k', 1);
    late.set('k', 1);
    clock = 4_999;
    expect([soon.get('k'), late.get('k')]).toEqual([1, 1]);
    clock = 5_000;
    expect([soon.get('k'), late.get('k')]).toEqual([undefined, 1]);
    clock = 10_000;
    expect(late.get('k')).toBeUndefined();
  });

  it('a time to live of 0 remembers nothing', () => {
    const totals = new CatalogTotals(0);
    totals.set('RE||2026-11-25', 3);
    expect(totals.get('RE||2026-11-25')).toBeUndefined();
  });
});
