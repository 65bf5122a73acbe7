import type { Knex } from 'knex';

/** A partner and rewards written directly, for redemption tests (imports are tested on their own). */
export async function makeReward(
  knex: Knex,
  sku: string,
  over: Partial<{ cost: number; stock: number | null; fulfilment: 'instant' | 'manual'; active: boolean; territories: string[] | '*'; available_from: string; available_to: string }> = {},
): Promise<number> {
  await knex('partners').insert({ code: 'TESTP', name: 'Test partner', territory_code: 'RE', commission_rate: '0.05' }).onConflict('code').ignore();
  const partner = await knex('partners').where({ code: 'TESTP' }).first('id');
  const territories = over.territories ?? ['RE'];
  const [{ id }] = await knex('rewards')
    .insert({
      sku, name: `Reward ${sku}`, cost: over.cost ?? 100, category_code: 'food', partner_id: partner.id,
      all_territories: territories === '*', territories: territories === '*' ? [] : [...territories].sort(), available_from: over.available_from ?? '2026-01-01', available_to: over.available_to ?? '2026-12-31',
      stock: over.stock === undefined ? 10 : over.stock, fulfilment: over.fulfilment ?? 'instant', active: over.active ?? true,
    })
    .returning('id');
  return Number(id);
}

/** Ledger and stock invariants in SQL: balance = Σ transactions = Σ remaining lots; units taken = live redemptions ≤ stock. */
export async function invariantProblems(knex: Knex): Promise<unknown[]> {
  const { rows } = await knex.raw(`
    select 'balance' as what, b.user_id, b.balance, coalesce(t.s, 0) as tx_sum, coalesce(l.s, 0) as lots_sum
      from points_balance b
      left join (select user_id, sum(amount)::int s from points_transactions group by user_id) t on t.user_id = b.user_id
      left join (select user_id, sum(remaining)::int s from points_lots group by user_id) l on l.user_id = b.user_id
     where b.balance <> coalesce(t.s, 0) or b.balance <> coalesce(l.s, 0) or b.balance < 0
    union all
    select 'stock', r.sku, r.stock, r.units_taken, coalesce(x.n, 0)
      from rewards r left join (select reward_id, count(*)::int n from reward_redemptions where status <> 'rejected' group by reward_id) x on x.reward_id = r.id
     where r.units_taken <> coalesce(x.n, 0) or (r.stock is not null and r.units_taken > r.stock)`);
  return rows;
}
