import type { Knex } from 'knex';

/**
 * Run a script of several SQL statements one by one. The embedded database sends each query as
 * a prepared statement, which takes one statement only, so scripts are split at the `;` that
 * ends a line before the next top-level statement keyword (function bodies stay whole).
 */
export async function runSql(knex: Knex, script: string): Promise<void> {
  const parts = script
    .split(/;\s*\n(?=\s*(?:--[^\n]*\n\s*)*(?:create|drop|insert|alter|comment|update|delete|select|grant|revoke|do)\b)/i)
    .map((s) => s.trim().replace(/;$/, ''))
    .filter((s) => s.replace(/--[^\n]*/g, '').trim().length > 0);
  for (const stmt of parts) await knex.raw(stmt);
}
