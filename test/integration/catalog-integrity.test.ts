import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { makeReward } from '../helpers/catalog-setup.js';
import { rejection } from '../helpers/ledger-setup.js';

/**
 * Migration 20261125000040 replaced the catalog's per-row foreign keys by set-based triggers:
 * the same refusals, with the same SQLSTATE (23503) and constraint names.
 */
let t: TestDb;
beforeAll(async () => {
  t = await createTestDb(2);
});
afterAll(async () => {
  await t?.destroy();
});

const fkError = async (p: Promise<unknown>, constraint: string) => {
  const e = (await rejection(p)) as Error & { code?: string; constraint?: string };
  expect(e.code).toBe('23503');
  expect(e.constraint).toBe(constraint);
  return e;
};

describe('catalog references without per-row foreign keys', () => {
  it('refuses a reward with an unknown category or partner, on insert (many rows at once) and on update', async () => {
    const k = t.db.knex;
    const id = await makeReward(k, 'INT-1');
    const partner = (await k('partners').where({ code: 'TESTP' }).first('id')).id;
    const base = { name: 'x', cost: 1, partner_id: partner, available_from: '2026-01-01', available_to: '2026-12-31' };
    const e = await fkError(k('rewards').insert([{ ...base, sku: 'INT-2', category_code: 'food' }, { ...base, sku: 'INT-3', category_code: 'nope' }]), 'rewards_category_code_fkey');
    expect(e.message).toMatch(/violates foreign key constraint "rewards_category_code_fkey"/);
    await fkError(k('rewards').insert({ ...base, sku: 'INT-4', category_code: 'food', partner_id: 999_999 }), 'rewards_partner_id_fkey');
    await fkError(k('rewards').where({ id }).update({ category_code: 'nope' }), 'rewards_category_code_fkey');
    await fkError(k('rewards').where({ id }).update({ partner_id: 999_999 }), 'rewards_partner_id_fkey');
    expect(await k('rewards').whereIn('sku', ['INT-2', 'INT-3', 'INT-4'])).toEqual([]);
    // An update that leaves the keys alone is not checked (redeem's units_taken) and succeeds.
    await k('rewards').where({ id }).update({ units_taken: 1, category_code: 'food' });
  });

  it("refuses an unknown territory code in a reward's territories, on insert (many rows at once) and on update", async () => {
    const k = t.db.knex;
    const id = await makeReward(k, 'INT-5');
    const partner = (await k('partners').where({ code: 'TESTP' }).first('id')).id;
    const base = { name: 'x', cost: 1, category_code: 'food', partner_id: partner, available_from: '2026-01-01', available_to: '2026-12-31' };
    const e = await fkError(k('rewards').insert([{ ...base, sku: 'INT-5A', territories: ['GP'] }, { ...base, sku: 'INT-5B', territories: ['GP', 'XX'] }]), 'rewards_territories_fkey');
    expect(e.message).toMatch(/violates foreign key constraint "rewards_territories_fkey"/);
    await fkError(k('rewards').where({ id }).update({ territories: ['XX'] }), 'rewards_territories_fkey');
    expect(await k('rewards').whereIn('sku', ['INT-5A', 'INT-5B'])).toEqual([]);
    expect((await k('rewards').where({ id }).first()).territories).toEqual(['RE']);
    // Offered everywhere means no codes of its own: the database refuses both at once.
    const c = (await rejection(k('rewards').where({ id }).update({ all_territories: true }))) as Error & { code?: string; constraint?: string };
    expect(c.code).toBe('23514');
    expect(c.constraint).toBe('rewards_territories_check');
    // A known code is taken, and the reward's offers follow.
    await k('rewards').where({ id }).update({ territories: ['GP', 'RE'] });
    expect(await k('catalog_offers').where({ reward_id: id }).orderBy('territory_code').pluck('territory_code')).toEqual(['GP', 'RE']);
  });

  it('never deletes, truncates or re-keys a parent row (rewards are deactivated instead)', async () => {
    const k = t.db.knex;
    const id = await makeReward(k, 'INT-6');
    await k('categories').insert({ code: 'unused', name: 'Unused' });
    await fkError(k('rewards').where({ id }).del(), 'reward_redemptions_reward_id_fkey');
    await fkError(k('categories').where({ code: 'unused' }).del(), 'rewards_category_code_fkey');
    await fkError(k('categories').where({ code: 'unused' }).update({ code: 'renamed' }), 'rewards_category_code_fkey');
    await fkError(k('partners').where({ code: 'TESTP' }).del(), 'rewards_partner_id_fkey');
    await fkError(k.raw('truncate categories cascade'), 'rewards_category_code_fkey');
    await fkError(k.raw('delete from territories where code = ?', ['WF']), 'rewards_territories_fkey');
    // Other columns of a parent change freely.
    await k('categories').where({ code: 'unused' }).update({ name: 'Still unused' });
    expect(await k('rewards').where({ id }).first()).toMatchObject({ sku: 'INT-6' });
  });
});
