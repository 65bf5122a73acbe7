import type { Knex } from 'knex';
import { RayonError } from '../errors.js';
import { onConnection, type Query } from '../../db/fast-tx.js';
import { currentScope, runInScope, type WorkScope } from '../../db/scope.js';

/**
 * The batch scheduler of the daily collection (collect.ts): collections in flight in one process
 * at the same time share one read, one write and one commit. What a batch reads and writes is
 * the collection's own business, given as `BatchWork`.
 */

/** Users per batch, and batches written at once (each on its own pooled connection). */
const MAX_BATCH = 100;
// One: batches then gather the most users, and one batch never waits for another's rows.
// Measured with bench:http round 1: one in flight 3,060-3,595 req/s, p99 31.6-40.1 ms, PostgreSQL
// 103-131 µs per collection; two in flight (commit 23154ed) 2,137-2,689 req/s, p99 49.5-54.9 ms,
// 191-224 µs. A batch does not wait on row locks (it skips locked rows) and the users it leaves
// are collected outside it, so the one slot cannot be held up by another transaction.
const MAX_IN_FLIGHT = 1;
/**
 * Collections collected on their own at once in the process, after a batch left them (guard
 * missed, row held by another transaction, batch failed): below the HTTP pool's 8 connections.
 */
const ALONE_AT_ONCE = 4;
/** Collections waiting beyond this are refused as UNAVAILABLE (the database is not keeping up). */
const MAX_WAITING = 20_000;

/** One caller waiting for their collection. */
export interface Waiting<R> {
  userId: string;
  now: Date;
  actor: string | undefined;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
  settled: boolean;
  /** The caller's request: once its deadline passes, it is not collected any more (unless already in a batch being written). */
  scope: WorkScope | undefined;
}

/** How a batch is written and how a user is collected alone: the collection's own rules. */
export interface BatchWork<R> {
  /** One batch on one connection; settles whom it can, returns those to collect alone. */
  writeBatch(q: Query, batch: Waiting<R>[], settle: (w: Waiting<R>, run: () => R) => void): Promise<{ again: Waiting<R>[]; written: number }>;
  collectOne(userId: string, now: Date, actor: string | undefined): Promise<R>;
}

/** The figures `dailyBatchStats` reports. */
export type BatchStats = DailyBatches<unknown>['stats'];

/**
 * The collections waiting in this process, written a batch at a time. No timer: a batch starts
 * as soon as no other is being written (MAX_IN_FLIGHT), with whoever is waiting — alone, a
 * collection is a batch of one. A user is in at most one batch at a time (a second request
 * waits for the first to be written, then reads it and is refused as already collected). The
 * next batch may start once a batch's two statements are done; those it could not write
 * (guard missed, row held by another transaction, statement failed) are then collected on their
 * own, a few at a time, outside any batch.
 */
export class DailyBatches<R> {
  /** What the batches did so far in this process (tests, diagnostics). */
  readonly stats = {
    /** Batches, those of two users or more, and the users in them. */
    batches: 0,
    severalUsers: 0,
    batchedUsers: 0,
    /** Users a batch wrote, and users collected on their own after a batch (guard missed, row locked, batch failed). */
    batchWritten: 0,
    alone: 0,
    /** Batches whose statements failed as a whole, and the last reason. */
    failedBatches: 0,
    lastFailure: '',
    /** Collections waiting for a batch now; collected alone now, and waiting for that. */
    waiting: 0,
    aloneRunning: 0,
    aloneWaiting: 0,
  };
  private waiting: Waiting<R>[] = [];
  private inFlight = 0;
  private readonly busy = new Set<string>();
  private alone: Waiting<R>[] = [];
  private aloneRunning = 0;
  constructor(
    private readonly db: Knex,
    private readonly work: BatchWork<R>,
  ) {}

  collect(userId: string, now: Date, actor: string | undefined): Promise<R> {
    if (this.waiting.length >= MAX_WAITING) {
      return Promise.reject(new RayonError('UNAVAILABLE', `${this.waiting.length} daily collections are already waiting; retry shortly`));
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({ userId, now, actor, resolve, reject, settled: false, scope: currentScope() });
      this.pump();
      this.stats.waiting = this.waiting.length;
    });
  }

  private pump(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.waiting.length > 0) {
      const batch: Waiting<R>[] = [];
      const rest: Waiting<R>[] = [];
      const users = new Set<string>();
      for (const w of this.waiting) {
        if (w.scope?.aborted) {
          this.settle(w, () => {
            throw w.scope!.reason;
          });
        } else if (batch.length < MAX_BATCH && !this.busy.has(w.userId) && !users.has(w.userId)) {
          batch.push(w);
          users.add(w.userId);
        } else rest.push(w);
      }
      this.waiting = rest;
      this.stats.waiting = rest.length;
      if (batch.length === 0) return; // only users already being written: they go next
      for (const u of users) this.busy.add(u);
      this.inFlight++;
      // A batch serves several requests: no one request's deadline may stop it.
      void runInScope(undefined, () => this.write(batch));
    }
  }

  /** Never rejects: every caller's promise is settled here, exactly once. */
  private async write(batch: Waiting<R>[]): Promise<void> {
    let again: Waiting<R>[] = [];
    try {
      again = await this.writeMany(batch);
    } catch (err) {
      for (const w of batch) if (!w.settled) this.settle(w, () => { throw err; }); // not expected: writeMany settles or returns them
    }
    // Everyone settled is done; those left (`again`) stay busy until collected alone.
    for (const w of batch) if (w.settled) this.busy.delete(w.userId);
    this.inFlight--;
    // Those the batch could not write wait for their turn alone; they stay busy until then.
    this.alone.push(...again);
    this.runAlone();
    this.pump();
  }

  /**
   * Users collected on their own after a batch, at most ALONE_AT_ONCE at a time in the whole
   * process: each may wait for a row another transaction holds, on a pooled connection, and
   * the pool must keep connections for the batches and the other routes.
   */
  private runAlone(): void {
    while (this.aloneRunning < ALONE_AT_ONCE && this.alone.length > 0) {
      const w = this.alone.shift()!;
      this.aloneRunning++;
      // Alone, the collection is its caller's own work again, stopped at the caller's deadline.
      void runInScope(w.scope, () => this.work.collectOne(w.userId, w.now, w.actor))
        .then(w.resolve, w.reject)
        .finally(() => {
          w.settled = true;
          this.aloneRunning--;
          this.busy.delete(w.userId);
          this.runAlone();
          this.pump(); // this user's next request may be waiting
        });
    }
    this.stats.aloneRunning = this.aloneRunning;
    this.stats.aloneWaiting = this.alone.length;
  }

  /** Settle one caller with what `run` returns or throws. */
  private settle(w: Waiting<R>, run: () => R): void {
    try {
      w.resolve(run());
    } catch (err) {
      w.reject(err);
    }
    w.settled = true;
  }

  /** No connection to be had: everyone waiting would get the same answer after the same wait. */
  private refuseWaiting(err: unknown): void {
    const waiting = this.waiting;
    this.waiting = [];
    this.stats.waiting = 0;
    for (const w of waiting) this.settle(w, () => { throw err; });
  }

  /**
   * The batch's two statements. Settles everyone it has an answer for and returns those to
   * collect on their own. If no connection can be had, everyone is refused with that error
   * (trying each alone would only queue more for the pool); if a statement fails (a key written
   * by another process, a timeout…), nothing of it was written and everyone left goes alone.
   */
  private async writeMany(batch: Waiting<R>[]): Promise<Waiting<R>[]> {
    this.stats.batches++;
    if (batch.length > 1) this.stats.severalUsers++;
    this.stats.batchedUsers += batch.length;
    const settle = (w: Waiting<R>, run: () => R) => this.settle(w, run);
    let statementFailed = false;
    try {
      return await onConnection(this.db, async (q) => {
        try {
          const { again, written } = await this.work.writeBatch(q, batch, settle);
          this.stats.batchWritten += written;
          this.stats.alone += again.length;
          return again;
        } catch (err) {
          statementFailed = true;
          this.stats.failedBatches++;
          this.stats.lastFailure = err instanceof Error ? err.message : String(err);
          const again = batch.filter((w) => !w.settled);
          this.stats.alone += again.length;
          return again;
        }
      });
    } catch (err) {
      if (statementFailed) throw err;
      // No connection (pool exhausted, database unreachable): the same answer for everyone left,
      // and for everyone waiting behind them, rather than one such wait per batch.
      for (const w of batch) if (!w.settled) settle(w, () => { throw err; });
      this.refuseWaiting(err);
      return [];
    }
  }
}
