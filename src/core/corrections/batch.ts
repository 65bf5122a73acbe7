import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { RayonError, type FieldError } from '../errors.js';
import { audit } from '../audit/index.js';
import { assertPointsAmount } from '../bounds.js';
import { credit, debit, lockAccount, type Account } from '../ledger/index.js';
import { scaleAt } from '../scale/index.js';
import { localDate } from '../time.js';

/**
 * Manual corrections: compensating rows, never edits. Each manual adjustment and each bulk file
 * is a batch (id `batch_…`) carrying actor, reason and ticket.
 */

export function newBatchId(): string {
  return `batch_${crypto.randomBytes(8).toString('hex')}`;
}

export interface CorrectionLine {
  userId: string;
  amount: number;
  reason: string;
  ticket?: string | null;
  /** Keys the row: `correct:<user>:<ref>`; absent for a one-off adjustment. */
  ref?: string;
  /** Where the row came from, for error messages (`line 4`). */
  where?: string;
}

export interface AppliedLine {
  userId: string;
  ref?: string;
  requested: number;
  applied: number;
  shortfall: number;
  transactionId: number | null;
  balance: number;
  replay: boolean;
}

/** Apply one line inside the batch's transaction, with the account already locked. */
async function applyLine(trx: Knex.Transaction, account: Account, line: CorrectionLine, batchId: string, key: string, opts: { now: Date; actor: string; clamp: boolean }): Promise<AppliedLine> {
  const fields = { batch_id: batchId, reason: line.reason, ticket: line.ticket ?? null, actor: opts.actor };
  if (line.amount > 0) {
    const scale = await scaleAt(trx, localDate(opts.now, account.timezone));
    const r = await credit(trx, account, { type: 'adjustment', amount: line.amount, now: opts.now, key, earning: true, scale, fields });
    return { userId: line.userId, ref: line.ref, requested: line.amount, applied: r.replay ? 0 : line.amount, shortfall: 0, transactionId: r.transaction.id, balance: r.balance, replay: r.replay };
  }
  try {
    const r = await debit(trx, account, { type: 'adjustment', amount: -line.amount, now: opts.now, key, clamp: opts.clamp, fields });
    if (!r) return { userId: line.userId, ref: line.ref, requested: line.amount, applied: 0, shortfall: -line.amount, transactionId: null, balance: account.balance, replay: false };
    return {
      userId: line.userId, ref: line.ref, requested: line.amount, applied: r.replay ? 0 : r.transaction.amount, shortfall: r.shortfall,
      transactionId: r.transaction.id, balance: r.balance, replay: r.replay,
    };
  } catch (err) {
    if (err instanceof RayonError && err.code === 'INSUFFICIENT_BALANCE') {
      throw new RayonError('INSUFFICIENT_BALANCE', `${line.where ? `${line.where}: ` : ''}${err.message} (use --clamp to take what is left)`, { data: err.data });
    }
    throw err;
  }
}

export interface AdjustInput {
  userId: string;
  amount: number;
  reason: string;
  ticket?: string | null;
  clamp?: boolean;
}

export interface AdjustResult extends AppliedLine {
  batchId: string;
}

/** A one-off manual adjustment (positive or negative), as its own batch, audited. */
export async function adjustPoints(db: Knex, input: AdjustInput, opts: { now: Date; actor: string }): Promise<AdjustResult> {
  assertPointsAmount(input.amount, 'amount');
  if (!input.reason?.trim()) throw new RayonError('VALIDATION_ERROR', '--reason is required');
  const batchId = newBatchId();
  return db.transaction(async (trx) => {
    const account = await lockAccount(trx, input.userId);
    await trx('correction_batches').insert({
      id: batchId, kind: 'manual', actor: opts.actor, reason: input.reason, ticket: input.ticket ?? null, rows_total: 1, rows_applied: 1, created_at: opts.now,
    });
    const r = await applyLine(trx, account, { ...input }, batchId, `adjust:${batchId}`, { now: opts.now, actor: opts.actor, clamp: Boolean(input.clamp) });
    if (r.applied === 0) {
      throw new RayonError('INSUFFICIENT_BALANCE', `user ${input.userId} has no points left to take`);
    }
    await audit(trx, {
      actor: opts.actor, action: 'points.adjust', target: input.userId, at: opts.now,
      details: { batch_id: batchId, amount: r.applied, requested: input.amount, shortfall: r.shortfall, reason: input.reason, ticket: input.ticket ?? null, transaction_id: r.transactionId },
    });
    return { ...r, batchId };
  });
}

export interface CorrectionFile {
  fileName: string;
  sha256: string;
  lines: CorrectionLine[];
}

export interface CorrectionResult {
  batchId: string | null;
  applied: AppliedLine[];
  skipped: Array<{ userId: string; ref?: string; where?: string }>;
  total: number;
  dryRun: boolean;
}

class DryRunRollback extends Error {
  constructor(readonly result: CorrectionResult) {
    super('dry run');
  }
}

/**
 * Apply a bulk corrections file in one transaction. Rows already applied (same user and ref,
 * from any earlier file) are skipped, so re-sending a file — even with one line fixed — applies
 * each row once. When nothing is left to apply, nothing is written (not even a batch).
 */
export async function applyCorrections(
  db: Knex,
  file: CorrectionFile,
  opts: { now: Date; actor: string; clamp?: boolean; dryRun?: boolean; reason?: string },
): Promise<CorrectionResult> {
  const unknown = await unknownUsers(db, file.lines);
  if (unknown.length) {
    throw new RayonError('VALIDATION_ERROR', `${unknown.length} row(s) name an unknown user; nothing was written`, { details: unknown });
  }
  const batchId = newBatchId();
  // Lock order: users sorted by id, so two files touching the same users cannot deadlock.
  const ordered = [...file.lines].sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
  try {
    return await db.transaction(async (trx) => {
      // Lock every account of the file first, then read which rows are already applied: a run of
      // the same file racing this one waits here, then finds them done (and writes no batch).
      const accounts = new Map<string, Account>();
      for (const line of ordered) {
        if (!accounts.has(line.userId)) accounts.set(line.userId, await lockAccount(trx, line.userId));
      }
      const keys = ordered.map((l) => `correct:${l.userId}:${l.ref}`);
      const { rows: seen } = await trx.raw(
        `select k.user_id, k.key from idempotency_keys k
           join unnest(?::text[], ?::text[]) as x(user_id, key) on k.user_id = x.user_id and k.key = x.key`,
        [ordered.map((l) => l.userId), keys],
      );
      const done = new Set((seen as Array<{ user_id: string; key: string }>).map((r) => `${r.user_id}\u0000${r.key}`));
      const todo = ordered.filter((l, i) => !done.has(`${l.userId}\u0000${keys[i]}`));
      const skipped = ordered.filter((l, i) => done.has(`${l.userId}\u0000${keys[i]}`)).map((l) => ({ userId: l.userId, ref: l.ref, where: l.where }));
      if (todo.length === 0) {
        return { batchId: null, applied: [], skipped, total: file.lines.length, dryRun: Boolean(opts.dryRun) };
      }
      await trx('correction_batches').insert({
        id: batchId, kind: 'file', actor: opts.actor, reason: opts.reason ?? `corrections file ${file.fileName}`, ticket: null,
        file_name: file.fileName, file_sha256: file.sha256, rows_total: file.lines.length, rows_applied: todo.length, created_at: opts.now,
      });
      const applied: AppliedLine[] = [];
      for (const line of todo) {
        const account = accounts.get(line.userId) as Account;
        applied.push(await applyLine(trx, account, line, batchId, `correct:${line.userId}:${line.ref}`, { now: opts.now, actor: opts.actor, clamp: Boolean(opts.clamp) }));
      }
      await audit(trx, {
        actor: opts.actor, action: 'points.correct', target: batchId, at: opts.now,
        details: {
          file: file.fileName, sha256: file.sha256, rows: file.lines.length, applied: applied.length, skipped: skipped.length,
          points: applied.reduce((s, a) => s + a.applied, 0), shortfall: applied.reduce((s, a) => s + a.shortfall, 0),
        },
      });
      const result = { batchId, applied, skipped, total: file.lines.length, dryRun: Boolean(opts.dryRun) };
      if (opts.dryRun) throw new DryRunRollback(result);
      return result;
    });
  } catch (err) {
    if (err instanceof DryRunRollback) return err.result;
    throw err;
  }
}

async function unknownUsers(db: Knex, lines: CorrectionLine[]): Promise<FieldError[]> {
  const ids = [...new Set(lines.map((l) => l.userId))];
  const known = new Set<string>();
  for (let i = 0; i < ids.length; i += 1000) {
    const rows: Array<{ id: string }> = await db('users').whereIn('id', ids.slice(i, i + 1000)).select('id');
    rows.forEach((r) => known.add(r.id));
  }
  return lines
    .filter((l) => !known.has(l.userId))
    .map((l) => ({ where: `${l.where ?? 'row'}, column user_id`, message: `unknown user ${JSON.stringify(l.userId)}` }));
}
