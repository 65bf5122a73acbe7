import type { Knex } from 'knex';
import { canCopy, copyIn, copyText } from '../../db/copy.js';

/**
 * Bulk writes of the demo's rows: COPY FROM STDIN on PostgreSQL (src/db/copy.ts); on the embedded
 * database, PGlite's COPY FROM '/dev/blob' with the same text-format data. The embedded database's
 * multi-row INSERT … SELECT FROM unnest(…) was measured too: 2,000 users × 60 days took 17.6 s of
 * CPU with it, 13.6 s with COPY, most of the difference being the parsing of the array parameters.
 * Both run in the caller's transaction; tables are written parents first (the foreign keys are
 * checked as the rows arrive). Ids are given explicitly (COPY writes an identity column's given values), so
 * the generator decides them and a seed gives the same ids.
 */

/** Column types: documentation of the COPY data's columns (COPY takes them from the table). */
type ColType = 'text' | 'integer' | 'bigint' | 'boolean' | 'timestamptz' | 'date';
export type Value = string | number | boolean | null;
export type Row = Value[];

interface TableSpec {
  table: string;
  cols: Array<[string, ColType]>;
}

/** The tables the generator fills, in the order they are written. */
export const TABLES = {
  batches: { table: 'correction_batches', cols: [['id', 'text'], ['kind', 'text'], ['actor', 'text'], ['reason', 'text'], ['ticket', 'text'], ['rows_total', 'integer'], ['rows_applied', 'integer'], ['created_at', 'timestamptz']] },
  users: { table: 'users', cols: [['id', 'text'], ['email', 'text'], ['name', 'text'], ['territory_code', 'text'], ['beta', 'boolean'], ['created_at', 'timestamptz'], ['updated_at', 'timestamptz']] },
  balances: { table: 'points_balance', cols: [['user_id', 'text'], ['balance', 'integer'], ['lifetime_points', 'integer'], ['status', 'text'], ['updated_at', 'timestamptz']] },
  streaks: { table: 'streaks', cols: [['user_id', 'text'], ['current_streak', 'integer'], ['max_streak', 'integer'], ['last_check_in', 'date'], ['jokers_available', 'integer'], ['updated_at', 'timestamptz']] },
  transactions: {
    table: 'points_transactions',
    cols: [
      ['user_id', 'text'], ['id', 'bigint'], ['type', 'text'], ['amount', 'integer'], ['created_at', 'timestamptz'], ['local_date', 'date'],
      ['territory_code', 'text'], ['expires_at', 'timestamptz'], ['action_type', 'text'], ['reference_id', 'text'], ['streak_day', 'integer'],
      ['m100', 'integer'], ['jokers_used', 'integer'], ['bonus_pct', 'integer'], ['scale_version', 'integer'], ['batch_id', 'text'],
      ['redemption_id', 'bigint'], ['actor', 'text'], ['reason', 'text'], ['ticket', 'text'], ['idempotency_key', 'text'],
    ],
  },
  lots: { table: 'points_lots', cols: [['user_id', 'text'], ['id', 'bigint'], ['transaction_id', 'bigint'], ['amount', 'integer'], ['remaining', 'integer'], ['credited_at', 'timestamptz'], ['expires_at', 'timestamptz'], ['recredit', 'boolean']] },
  allocations: { table: 'lot_allocations', cols: [['user_id', 'text'], ['transaction_id', 'bigint'], ['lot_id', 'bigint'], ['points', 'integer'], ['lot_credited_at', 'timestamptz']] },
  keys: { table: 'idempotency_keys', cols: [['user_id', 'text'], ['key', 'text'], ['transaction_id', 'bigint'], ['created_at', 'timestamptz']] },
  redemptions: {
    table: 'reward_redemptions',
    cols: [
      ['user_id', 'text'], ['id', 'bigint'], ['reward_id', 'bigint'], ['points_spent', 'integer'], ['status', 'text'], ['voucher_code', 'text'],
      ['territory_code', 'text'], ['transaction_id', 'bigint'], ['refund_transaction_id', 'bigint'], ['created_at', 'timestamptz'],
      ['decided_at', 'timestamptz'], ['decided_by', 'text'], ['reason', 'text'],
    ],
  },
  refused: { table: 'refused_earns', cols: [['user_id', 'text'], ['action_type', 'text'], ['reference_id', 'text'], ['reason', 'text'], ['local_date', 'date'], ['territory_code', 'text'], ['at', 'timestamptz']] },
} satisfies Record<string, TableSpec>;

export type TableKey = keyof typeof TABLES;

/** Rows waiting to be written, per table. */
export type RowBuffer = Record<TableKey, Row[]>;

export function emptyBuffer(): RowBuffer {
  return Object.fromEntries(Object.keys(TABLES).map((k) => [k, []])) as unknown as RowBuffer;
}

export class BulkWriter {
  readonly written: Record<TableKey, number> = Object.fromEntries(Object.keys(TABLES).map((k) => [k, 0])) as Record<TableKey, number>;
  private constructor(
    private readonly trx: Knex.Transaction,
    /** COPY FROM STDIN on PostgreSQL; on the embedded database, PGlite's COPY FROM '/dev/blob'. */
    readonly method: 'copy' | 'copy-blob',
  ) {}

  static async open(trx: Knex.Transaction): Promise<BulkWriter> {
    return new BulkWriter(trx, (await canCopy(trx)) ? 'copy' : 'copy-blob');
  }

  /** Write every buffered row, parents first, and empty the buffer. */
  async flush(buf: RowBuffer): Promise<void> {
    for (const key of Object.keys(TABLES) as TableKey[]) {
      const rows = buf[key];
      if (rows.length === 0) continue;
      const spec: TableSpec = TABLES[key];
      let text = '';
      for (const r of rows) text += r.map(copyText).join('\t') + '\n';
      const columns = spec.cols.map((c) => c[0]);
      if (this.method === 'copy') await copyIn(this.trx, spec.table, columns, Buffer.from(text));
      else await this.trx.raw(`copy ${spec.table} (${columns.join(', ')}) from '/dev/blob'`).options({ blob: new Blob([text]) });
      this.written[key] += rows.length;
      buf[key] = [];
    }
  }
}
