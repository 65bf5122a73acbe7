import type { Knex } from 'knex';
import { RayonError, notFound } from '../errors.js';
import { audit } from '../audit/index.js';
import { credit, debit, lockAccount, normaliseTx, type Account, type TxRow } from '../ledger/index.js';
import { newBatchId } from './batch.js';
import { scaleAt, statusFor } from '../scale/index.js';
import { localDate, recreditExpiry } from '../time.js';

/**
 * `rayon points revert`: undo one daily, earn or adjustment transaction, or a whole correction
 * batch, atomically and once. A credit is taken back from what remains of its own lot (clamped,
 * the shortfall reported) and its points leave lifetime points; a debit comes back as a
 * re-credit. The streak and the idempotency key stay as they were (a retried earn still
 * answers "replay").
 */

const REVERTIBLE = new Set(['daily', 'earn', 'adjustment']);
const EARNING = new Set(['daily', 'earn', 'adjustment']);

export interface RevertedItem {
  transactionId: number;
  userId: string;
  type: string;
  amount: number;
  revertTransactionId: number | null;
  taken: number;
  shortfall: number;
  balance: number;
  status: string;
}

export interface RevertResult {
  target: string;
  items: RevertedItem[];
}

export async function revert(db: Knex, target: string, opts: { reason: string; actor: string; now: Date }): Promise<RevertResult> {
  if (!opts.reason?.trim()) throw new RayonError('VALIDATION_ERROR', '--reason is required');
  if (/^batch_[A-Za-z0-9]+$/.test(target)) return revertBatch(db, target, opts);
  if (!/^\d{1,18}$/.test(target)) throw new RayonError('VALIDATION_ERROR', `expected a transaction id (digits) or a batch id (batch_…), got ${JSON.stringify(target)}`);
  const id = Number(target);
  return db.transaction(async (trx) => {
    const tx = await findTx(trx, id);
    if (!tx) throw notFound('transaction', target);
    const account = await lockAccount(trx, tx.user_id);
    const item = await revertOne(trx, account, tx, { ...opts, batchId: null });
    return { target, items: [item] };
  });
}

async function revertBatch(db: Knex, batchId: string, opts: { reason: string; actor: string; now: Date }): Promise<RevertResult> {
  return db.transaction(async (trx) => {
    const batch = await trx('correction_batches').where({ id: batchId }).first('id', 'kind');
    if (!batch) throw notFound('batch', batchId);
    if (batch.kind === 'revert') throw new RayonError('INVALID_STATE', `${batchId} is itself a revert batch; revert its transactions one by one`);
    const rows: TxRow[] = (
      await trx('points_transactions as t')
        .leftJoin('transaction_reversals as r', function () {
          this.on('r.user_id', 't.user_id').andOn('r.transaction_id', 't.id');
        })
        .where('t.batch_id', batchId)
        .whereNull('r.transaction_id')
        .select('t.*')
        .orderBy([{ column: 't.user_id' }, { column: 't.id' }])
    ).map(normaliseTx);
    if (rows.length === 0) throw new RayonError('INVALID_STATE', `every transaction of ${batchId} is already reverted`);
    const revertBatchId = newBatchId();
    await trx('correction_batches').insert({
      id: revertBatchId, kind: 'revert', actor: opts.actor, reason: opts.reason, ticket: null,
      rows_total: rows.length, rows_applied: rows.length, created_at: opts.now,
    });
    const accounts = new Map<string, Account>();
    const items: RevertedItem[] = [];
    for (const tx of rows) {
      let account = accounts.get(tx.user_id);
      if (!account) {
        account = await lockAccount(trx, tx.user_id);
        accounts.set(tx.user_id, account);
      }
      items.push(await revertOne(trx, account, tx, { ...opts, batchId: revertBatchId, audited: false }));
    }
    await audit(trx, {
      actor: opts.actor, action: 'points.revert', target: batchId, at: opts.now,
      details: { revert_batch_id: revertBatchId, reason: opts.reason, transactions: items.map((i) => i.transactionId), taken: items.reduce((s, i) => s + i.taken, 0) },
    });
    return { target: batchId, items };
  });
}

async function findTx(trx: Knex.Transaction, id: number): Promise<TxRow | null> {
  const row = await trx('points_transactions').where({ id }).first();
  return row ? normaliseTx(row) : null;
}

async function revertOne(
  trx: Knex.Transaction,
  account: Account,
  tx: TxRow,
  opts: { reason: string; actor: string; now: Date; batchId: string | null; audited?: boolean },
): Promise<RevertedItem> {
  if (!REVERTIBLE.has(tx.type)) {
    throw new RayonError('INVALID_STATE', `transaction ${tx.id} is of type ${tx.type}: only daily, earn and adjustment transactions can be reverted`);
  }
  const already = await trx('transaction_reversals').where({ user_id: tx.user_id, transaction_id: tx.id }).first('at');
  if (already) throw new RayonError('INVALID_STATE', `transaction ${tx.id} is already reverted`);
  const key = `revert:${tx.id}`;
  const fields = { reverses_id: tx.id, reason: opts.reason, actor: opts.actor, batch_id: opts.batchId };
  let revertTxId: number | null = null;
  let taken = 0;
  let shortfall = 0;
  let lifetimeDelta = 0;
  if (tx.amount > 0) {
    const lot = await trx('points_lots').where({ user_id: tx.user_id, transaction_id: tx.id }).first('id');
    const r = await debit(trx, account, {
      type: 'revert', amount: tx.amount, now: opts.now, key, clamp: true, fromLots: lot ? [lot.id] : [], fields,
    });
    taken = r ? -r.transaction.amount : 0;
    shortfall = tx.amount - taken;
    revertTxId = r?.transaction.id ?? null;
    if (EARNING.has(tx.type)) lifetimeDelta = tx.amount;
  } else {
    // A debit comes back as a re-credit, expiring no earlier than the lots it had taken.
    const { rows } = await trx.raw(
      `select max(l.expires_at) as expires_at from lot_allocations a
         join points_lots l on l.user_id = a.user_id and l.id = a.lot_id
        where a.user_id = ? and a.transaction_id = ?`,
      [tx.user_id, tx.id],
    );
    const original = rows[0]?.expires_at ? new Date(rows[0].expires_at) : opts.now;
    const scale = await scaleAt(trx, localDate(opts.now, account.timezone));
    const r = await credit(trx, account, {
      type: 'revert', amount: -tx.amount, now: opts.now, key, earning: false, scale,
      expiresAt: recreditExpiry(original, opts.now, account.timezone), fields,
    });
    taken = tx.amount; // negative: points given back
    revertTxId = r.transaction.id;
  }
  if (lifetimeDelta > 0) {
    // Reverting an earning credit removes it from lifetime points; this is the one way a
    // status can go down.
    const scale = await scaleAt(trx, localDate(opts.now, account.timezone));
    const lifetime = account.lifetime - lifetimeDelta;
    const status = statusFor(lifetime, scale.document.statuses).code;
    await trx('points_balance').where({ user_id: tx.user_id }).update({ lifetime_points: lifetime, status, updated_at: opts.now });
    account.lifetime = lifetime;
    account.status = status;
  }
  await trx('transaction_reversals').insert({
    user_id: tx.user_id, transaction_id: tx.id, revert_transaction_id: revertTxId, batch_id: opts.batchId,
    taken: Math.max(taken, 0), shortfall, lifetime_delta: lifetimeDelta, actor: opts.actor, reason: opts.reason, at: opts.now,
  });
  if (opts.audited !== false) {
    await audit(trx, {
      actor: opts.actor, action: 'points.revert', target: String(tx.id), at: opts.now,
      details: { user_id: tx.user_id, type: tx.type, amount: tx.amount, revert_transaction_id: revertTxId, taken, shortfall, reason: opts.reason },
    });
  }
  return {
    transactionId: tx.id, userId: tx.user_id, type: tx.type, amount: tx.amount, revertTransactionId: revertTxId,
    taken, shortfall, balance: account.balance, status: account.status,
  };
}
