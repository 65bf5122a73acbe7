import type { Knex } from 'knex';
import { addDays } from '../time.js';
import type { DemoReward, DemoTerritory } from './world.js';

/**
 * The demo's partners and catalog: three partners per territory and seven rewards each (from a
 * coffee to a plane-ticket discount, instant vouchers and manual fulfilment, two with a stock),
 * plus one charity donation offered everywhere. Plain valid rows, inserted in one statement per
 * table; the catalog triggers derive the offers as for any import.
 */

const PARTNERS = [
  { n: 1, name: 'Marché Créole', rate: '0.08000' },
  { n: 2, name: 'Ciné Lagon', rate: '0.12000' },
  { n: 3, name: 'Réseau Mobilité', rate: '0.05000' },
];

const REWARDS: Array<{ cost: number; category: string; name: string; partner: number; fulfilment: 'instant' | 'manual'; stock: number | null }> = [
  { cost: 100, category: 'food', name: 'Café et viennoiserie offerts', partner: 1, fulfilment: 'instant', stock: null },
  { cost: 250, category: 'transport', name: 'Ticket de bus, un trajet', partner: 3, fulfilment: 'instant', stock: null },
  { cost: 500, category: 'phone', name: 'Recharge mobile 5 €', partner: 3, fulfilment: 'instant', stock: null },
  { cost: 800, category: 'culture', name: 'Place de cinéma', partner: 2, fulfilment: 'instant', stock: null },
  { cost: 1200, category: 'food', name: "Bon d'achat 12 € au marché", partner: 1, fulfilment: 'manual', stock: null },
  { cost: 2500, category: 'culture', name: 'Carte cadeau librairie 25 €', partner: 2, fulfilment: 'manual', stock: 400 },
  { cost: 5000, category: 'transport', name: "Réduction de 50 € sur un billet d'avion", partner: 3, fulfilment: 'manual', stock: 40 },
];
const CHARITY = { cost: 300, name: 'Don de 3 € à une association locale' };

export async function createCatalog(trx: Knex.Transaction, prefix: string, territories: DemoTerritory[], now: Date): Promise<{ partners: number; rewards: number }> {
  const p = prefix.toUpperCase();
  const from = addDays(territories.reduce((m, t) => (t.start < m ? t.start : m), territories[0].start), -30);
  const to = addDays(territories.reduce((m, t) => (t.end > m ? t.end : m), territories[0].end), 365);
  const partnerRows = territories.flatMap((t) =>
    PARTNERS.map((x) => ({
      code: `${p}${t.code}-P${x.n}`, name: `${x.name} (${t.code})`, territory_code: t.code, commission_rate: x.rate,
      contract_details: 'demo contract', created_at: now, updated_at: now,
    })),
  );
  const partners: Array<{ id: number; code: string }> = await trx('partners').insert(partnerRows).returning(['id', 'code']);
  const partnerId = new Map(partners.map((x) => [x.code, Number(x.id)]));
  const rewardRows = territories.flatMap((t) =>
    REWARDS.map((r, i) => ({
      sku: `${p}${t.code}-${String(i + 1).padStart(2, '0')}`, name: r.name, description: `${r.name} — demo reward`, cost: r.cost,
      category_code: r.category, partner_id: partnerId.get(`${p}${t.code}-P${r.partner}`), all_territories: false, territories: [t.code],
      available_from: from, available_to: to, stock: r.stock, fulfilment: r.fulfilment, active: true, created_at: now, updated_at: now,
    })),
  );
  rewardRows.push({
    sku: `${p}ALL-DON`, name: CHARITY.name, description: `${CHARITY.name} — demo reward`, cost: CHARITY.cost, category_code: 'charity',
    partner_id: partnerId.get(`${p}${territories[0].code}-P1`), all_territories: true, territories: [], available_from: from, available_to: to,
    stock: null, fulfilment: 'instant', active: true, created_at: now, updated_at: now,
  });
  const inserted: Array<{ id: number; sku: string; cost: number; fulfilment: DemoReward['fulfilment']; stock: number | null; territories: string[]; all_territories: boolean }> =
    await trx('rewards').insert(rewardRows).returning(['id', 'sku', 'cost', 'fulfilment', 'stock', 'territories', 'all_territories']);
  const sorted = inserted.map((r) => ({ ...r, id: Number(r.id) })).sort((a, b) => a.id - b.id);
  for (const t of territories) {
    t.rewards = sorted
      .filter((r) => r.all_territories || r.territories.includes(t.code))
      .map((r) => ({ id: r.id, sku: r.sku, cost: r.cost, fulfilment: r.fulfilment, stock: r.stock }));
  }
  return { partners: partners.length, rewards: inserted.length };
}

/** Units taken = the rewards' redemptions not rejected (the generator kept within each stock). */
export async function settleUnits(trx: Knex.Transaction, rewardIds: number[]): Promise<void> {
  await trx.raw(
    `update rewards r set units_taken = x.n
       from (select reward_id, count(*)::int as n from reward_redemptions
              where reward_id = any(?::bigint[]) and status <> 'rejected' group by reward_id) x
      where r.id = x.reward_id`,
    [rewardIds],
  );
}
