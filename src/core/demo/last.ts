import type { Knex } from 'knex';

/** What the last `rayon demo` on this database wrote, from its audit row (null: no demo here). */
export interface LastDemo {
  at: Date;
  seed: number;
  users: number;
  days: number;
  showcase_user: string | null;
  fraud_patterns: Record<string, string[]>;
}

/**
 * The last demo's own account of itself, so that a second quickstart can point at the same
 * interesting user without guessing. Read from the append-only audit log, where `loadDemo`
 * records it in the demo's transaction.
 */
export async function lastDemo(db: Knex): Promise<LastDemo | null> {
  const row = await db('audit_log').where({ action: 'demo.load' }).orderBy('id', 'desc').first('at', 'business_at', 'details');
  if (!row) return null;
  const d = (typeof row.details === 'string' ? JSON.parse(row.details) : row.details) as Partial<LastDemo>;
  return {
    at: new Date(row.business_at ?? row.at),
    seed: Number(d.seed),
    users: Number(d.users),
    days: Number(d.days),
    showcase_user: d.showcase_user ?? null,
    fraud_patterns: d.fraud_patterns ?? {},
  };
}
