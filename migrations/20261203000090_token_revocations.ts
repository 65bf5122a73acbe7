import type { Knex } from 'knex';
import { runSql } from '../src/db/sql.js';

/**
 * Revoked tokens, by their `jti` (`rayon token revoke`), read by every running server.
 * A revocation is never edited and never withdrawn while it matters: UPDATE is refused, and
 * DELETE only of rows past `expires_at` (by then the token has expired anyway, so the row may be
 * pruned); TRUNCATE is refused. `expires_at` is the token's own expiry when the operator gives
 * it, else 30 days after the revocation (the longest lifetime `rayon token issue` gives).
 */
export async function up(knex: Knex): Promise<void> {
  await runSql(knex, `
    create table token_revocations (
      jti text primary key check (length(jti) between 1 and 255),
      revoked_at timestamptz not null default now(),
      actor text not null check (length(actor) between 1 and 200),
      reason text not null check (length(btrim(reason)) between 1 and 1000),
      expires_at timestamptz not null,
      check (expires_at > revoked_at)
    );
    create index token_revocations_expires_idx on token_revocations (expires_at);

    create function token_revocations_guard() returns trigger language plpgsql as $$
    begin
      if tg_op = 'DELETE' and old.expires_at <= now() then
        return old;
      end if;
      raise exception 'table token_revocations is insert-only: % refused (a revocation may only be pruned after its expires_at)', tg_op
        using errcode = '0A000';
    end $$;

    create trigger token_revocations_insert_only before update or delete on token_revocations
      for each row execute function token_revocations_guard();
    create trigger token_revocations_no_truncate before truncate on token_revocations
      for each statement execute function rayon_refuse_change();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runSql(knex, `
    drop table if exists token_revocations;
    drop function if exists token_revocations_guard();
  `);
}
