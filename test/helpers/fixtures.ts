import type { Knex } from 'knex';
import { upsertUsers, type UserInput } from '../../src/core/users/index.js';

export const at = (iso: string): Date => new Date(iso);

/** Create users (with balance and streak rows) directly, for tests. */
export async function makeUsers(knex: Knex, users: Array<Partial<UserInput> & { id: string }>, now = new Date('2026-01-01T00:00:00Z')): Promise<void> {
  await knex.transaction((trx) =>
    upsertUsers(
      trx,
      users.map((u) => ({ email: `${u.id}@example.org`, name: u.id, territory: 'RE', created_at: now, ...u })),
      now,
    ),
  );
}

export const makeUser = (knex: Knex, id: string, territory = 'RE', now?: Date) => makeUsers(knex, [{ id, territory }], now);
