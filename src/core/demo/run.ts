import type { Knex } from 'knex';
import { RayonError } from '../errors.js';
import { audit } from '../audit/index.js';
import { listScaleVersions, versionInForce } from '../scale/index.js';
import { addDays, localDate } from '../time.js';
import { isPostgres } from '../../db/handle.js';
import { vacuumAnalyze } from '../../db/maintenance.js';
import { DEFERRED_TABLES, deferKeysAndIndexes } from './bulk-load.js';
import { createCatalog, settleUnits } from './catalog.js';
import { buildRequestStats, writeRequestStats } from './http.js';
import { plantPatterns } from './patterns.js';
import { planUser } from './plan.js';
import { emptyLog, simulateUser, type BatchLog } from './simulate.js';
import { BulkWriter, emptyBuffer, type TableKey } from './writers.js';
import { DEMO_ACTORS, DemoWorld, territoryPeriod, type DemoTerritory } from './world.js';

/**
 * `rayon demo`: a realistic, deterministic history ending yesterday (SPEC "Demo data").
 *
 * The whole demo is one database transaction: it is there entirely or not at all (an error or an
 * interrupted run leaves the database as it was). Users are generated and written in batches
 * (COPY on PostgreSQL, multi-row inserts on the embedded database), so memory stays bounded by a
 * batch whatever the number of users. The same seed and version give the same rows — ids,
 * amounts, instants — as long as the database starts empty and `now` is the same.
 */

export interface DemoOptions {
  users: number;
  days: number;
  seed: number;
  /** Territory codes; default: every territory open or in beta. */
  territories?: string[];
  now: Date;
  actor: string;
  /** Write beside users already there (`--yes`). */
  allowExisting?: boolean;
  batchSize?: number;
  onProgress?: (usersDone: number, usersTotal: number) => void;
}

export interface DemoResult {
  seed: number;
  users: number;
  days: number;
  territories: Array<{ code: string; from: string; to: string }>;
  method: BulkWriter['method'];
  /** Keys and indexes of the ledger tables were built after the load (an empty ledger). */
  deferred_indexes: boolean;
  scale_version: number | null;
  expiry_days: number;
  rows: Record<TableKey | 'audit_log' | 'http_request_stats' | 'partners' | 'rewards', number>;
  points: BatchLog['points'];
  redemptions: BatchLog['redemptions'];
  /** Rule → the users (or operator) planted to trip it. */
  fraud_patterns: Record<string, string[]>;
  /** A user worth a look with `rayon user show` (null in a demo too small for the patterns). */
  showcase_user: string | null;
  elapsed_ms: number;
  /** Where the time went: set-up and catalog, generation and bulk writes, the rebuild of keys and indexes, statistics and the rest. */
  phases_ms?: { setup: number; load: number; rebuild: number; finish: number };
}

export const DEMO_LIMITS = { users: [1, 1_000_000], days: [1, 730], seed: [0, 2_147_483_647] } as const;
/** The demo scale's expiry: a month, so that a history of a few weeks already has breakage. */
export const DEMO_EXPIRY_DAYS = 30;

export async function loadDemo(db: Knex, opts: DemoOptions): Promise<DemoResult> {
  const started = Date.now();
  for (const k of ['users', 'days', 'seed'] as const) {
    const [min, max] = DEMO_LIMITS[k];
    if (!Number.isSafeInteger(opts[k]) || opts[k] < min || opts[k] > max) {
      throw new RayonError('VALIDATION_ERROR', `--${k} must be a whole number from ${min} to ${max}, got ${opts[k]}`, { details: [{ where: `--${k}`, message: `must be ${min}-${max}` }] });
    }
  }
  const loaded = await db.transaction(async (trx) => {
    if (isPostgres(trx)) {
      // One long transaction by design: the server's guards for interactive work do not apply.
      await trx.raw('set local statement_timeout = 0');
      await trx.raw('set local idle_in_transaction_session_timeout = 0');
    }
    const territories = await resolveTerritories(trx, opts);
    await refuseExisting(trx, opts);
    const prefix = `d${opts.seed}-`;

    // A demo scale with a short expiry, so that breakage is real — only on an empty ledger, where
    // it rewrites no one's history. It takes effect on the first day of the history.
    let scaleVersion: number | null = null;
    const ledgerEmpty = !(await trx('points_transactions').first('id'));
    const existing = await listScaleVersions(trx);
    const firstDay = territories.reduce((m, t) => (t.start < m ? t.start : m), territories[0].start);
    if (ledgerEmpty) {
      scaleVersion = Math.max(...existing.map((v) => v.version)) + 1;
      const base = versionInForce(existing, firstDay).document;
      await trx('scale_versions').insert({
        version: scaleVersion, effective_from: firstDay, document: JSON.stringify({ ...base, expiry_days: DEMO_EXPIRY_DAYS }), actor: opts.actor,
        reason: `demo data (seed ${opts.seed}): the scale in force with points expiring after ${DEMO_EXPIRY_DAYS} days`,
      });
    }
    const versions = await listScaleVersions(trx);
    const catalog = await createCatalog(trx, prefix, territories, opts.now);

    const base = await trx.raw(
      `select (select coalesce(max(id), 0) from points_transactions) + 1 as tx, (select coalesce(max(id), 0) from points_lots) + 1 as lot,
              (select coalesce(max(id), 0) from reward_redemptions) + 1 as redemption`,
    );
    const b = base.rows[0];
    const world = new DemoWorld(opts.seed, prefix, versions, { tx: Number(b.tx), lot: Number(b.lot), redemption: Number(b.redemption), batch: 1 });
    for (const t of territories) world.territories.set(t.code, t);
    const patterns = plantPatterns(world, territories.find((t) => t.code === 'RE') ?? territories[0], opts.users, opts.days);

    const writer = await BulkWriter.open(trx);
    // On an empty ledger, keys and indexes are built once after the load (bulk-load.ts).
    const emptyTables = await trx.raw(`select ${DEFERRED_TABLES.map((t) => `not exists (select 1 from ${t})`).join(' and ')} as empty`);
    const rebuild = emptyTables.rows[0].empty ? await deferKeysAndIndexes(trx) : null;
    // Memory of the server for the index builds and the foreign keys' validating joins.
    if (rebuild && isPostgres(trx)) {
      await trx.raw(`set local maintenance_work_mem = '256MB'`);
      await trx.raw(`set local work_mem = '128MB'`);
    }
    const phases = { setup: Date.now() - started, load: 0, rebuild: 0, finish: 0 };
    let mark = Date.now();
    const totals = emptyLog();
    let auditRows = 0;
    const batchSize = opts.batchSize ?? 1000;
    // While PostgreSQL takes one batch, the next is generated: the generator yields every few
    // users so the COPY data keeps flowing. At most two batches are in memory.
    let writing: Promise<void> = Promise.resolve();
    for (let from = 0; from < opts.users; from += batchSize) {
      const buf = emptyBuffer();
      const log = emptyLog();
      const to = Math.min(opts.users, from + batchSize);
      for (let i = from; i < to; i++) {
        const plan = planUser(world, i, territories);
        patterns.modifierFor(i)?.(plan);
        simulateUser(world, plan, buf, log);
        if (i % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
      }
      await writing;
      writing = (async () => {
        await writer.flush(buf);
        auditRows += await writeBatchAudit(trx, log, opts.now);
        addLog(totals, log);
        opts.onProgress?.(to, opts.users);
      })();
      // A failed write stops the generation at the next batch (and rolls everything back).
      writing.catch(() => undefined);
    }
    await writing;
    phases.load = Date.now() - mark;
    mark = Date.now();
    await rebuild?.();
    phases.rebuild = Date.now() - mark;
    mark = Date.now();
    const stats = buildRequestStats(world);
    await writeRequestStats(trx, stats);
    await settleUnits(trx, [...new Set(territories.flatMap((t) => t.rewards.map((r) => r.id)))]);
    for (const [table] of [['points_transactions'], ['points_lots'], ['reward_redemptions']]) {
      await trx.raw(`select setval(pg_get_serial_sequence(?, 'id'), m) from (select max(id) as m from ${table}) x where m is not null`, [table]);
    }
    const result: DemoResult = {
      seed: opts.seed, users: opts.users, days: opts.days,
      territories: territories.map((t) => ({ code: t.code, from: t.start, to: t.end })),
      method: writer.method, deferred_indexes: Boolean(rebuild), scale_version: scaleVersion, expiry_days: versionInForce(versions, firstDay).document.expiry_days,
      rows: { ...writer.written, audit_log: auditRows + 1, http_request_stats: stats.length, partners: catalog.partners, rewards: catalog.rewards },
      points: totals.points, redemptions: totals.redemptions, fraud_patterns: patterns.planted, showcase_user: patterns.showcase, elapsed_ms: 0,
    };
    await audit(trx, {
      actor: opts.actor, action: 'demo.load', target: null, at: opts.now,
      details: { seed: opts.seed, users: opts.users, days: opts.days, territories: result.territories, scale_version: scaleVersion, rows: result.rows, showcase_user: result.showcase_user, fraud_patterns: result.fraud_patterns },
    });
    phases.finish = Date.now() - mark;
    return { result, phases, mark: Date.now() };
  });
  // After the commit: statistics for the planner, and the visibility map set on every page just
  // written, so the reports' index-only scans read the indexes alone from the start instead of
  // visiting the table until autovacuum comes by.
  // Not on the embedded database: there the quickstart's small demo reads as fast without it, and
  // the vacuum cost it 2 s (bench:quickstart, 9.2 s → 11.7 s).
  if (isPostgres(db)) await vacuumAnalyze(db, VACUUMED);
  loaded.phases.finish += Date.now() - loaded.mark;
  loaded.result.elapsed_ms = Date.now() - started;
  loaded.result.phases_ms = loaded.phases;
  return loaded.result;
}

/** The tables the demo fills in bulk. */
const VACUUMED = ['users', 'points_transactions', 'points_lots', 'lot_allocations', 'idempotency_keys', 'points_balance', 'streaks', 'reward_redemptions', 'refused_earns', 'http_request_stats'];

async function resolveTerritories(trx: Knex.Transaction, opts: DemoOptions): Promise<DemoTerritory[]> {
  const all: Array<{ code: string; timezone: string; state: string }> = await trx('territories').select('code', 'timezone', 'state').orderBy('code');
  const active = all.filter((t) => t.state !== 'closed');
  let chosen = active;
  if (opts.territories?.length) {
    const unknown = opts.territories.filter((c) => !all.some((t) => t.code === c));
    if (unknown.length) {
      throw new RayonError('VALIDATION_ERROR', `--territories: unknown territory ${unknown.map((c) => JSON.stringify(c)).join(', ')} (known: ${all.map((t) => t.code).join(', ')})`, { details: [{ where: '--territories', message: `unknown ${unknown.join(', ')}` }] });
    }
    const closed = opts.territories.filter((c) => !active.some((t) => t.code === c));
    if (closed.length) {
      throw new RayonError('INVALID_STATE', `--territories: ${closed.join(', ')} ${closed.length > 1 ? 'are' : 'is'} closed, so no one may earn there: launch it first (rayon territory launch ${closed[0]} [--beta])`);
    }
    chosen = [...new Set(opts.territories)].map((c) => active.find((t) => t.code === c)!);
  }
  if (chosen.length === 0) throw new RayonError('INVALID_STATE', 'no territory is open or in beta: launch one first (rayon territory launch RE)');
  return chosen.map((t) => {
    const end = addDays(localDate(opts.now, t.timezone), -1);
    return territoryPeriod(t.code, t.timezone, addDays(end, -(opts.days - 1)), end, t.state === 'beta');
  });
}

async function refuseExisting(trx: Knex.Transaction, opts: DemoOptions): Promise<void> {
  const n = Number((await trx('users').count({ n: '*' }).first())?.n ?? 0);
  if (n > 0 && !opts.allowExisting) {
    throw new RayonError('INVALID_STATE', `the database already holds ${n} user(s): rerun with --yes to add the demo beside them, or point RAYON_DATA_DIR or DATABASE_URL at an empty database`);
  }
  const prefix = `d${opts.seed}-`;
  if (await trx('users').where('id', 'like', `${prefix}%`).first('id')) {
    throw new RayonError('INVALID_STATE', `the database already holds the demo of seed ${opts.seed} (users ${prefix}…): choose another --seed, or use an empty database`);
  }
}

/**
 * The batch's audit rows: the marketplace's earns and the nightly expiry runs name their ledger
 * rows (one row each per batch, as `points expire` does per batch), and each operator decision or
 * credit has its own row, as the real commands write them.
 */
async function writeBatchAudit(trx: Knex.Transaction, log: BatchLog, at: Date): Promise<number> {
  const rows = [...log.audits];
  if (log.earnIds.length) rows.push({ actor: DEMO_ACTORS.marketplace, action: 'points.earn', target: null, at, details: { demo: true, transaction_ids: log.earnIds } });
  if (log.expireIds.length) rows.push({ actor: DEMO_ACTORS.expiry, action: 'points.expire', target: null, at, details: { demo: true, transaction_ids: log.expireIds } });
  const records = rows.map((r) => ({ actor: r.actor, action: r.action, target: r.target ?? null, details: JSON.stringify(r.details ?? {}), business_at: r.at ?? null, at: r.at ?? at }));
  for (let i = 0; i < records.length; i += 500) await trx('audit_log').insert(records.slice(i, i + 500));
  return records.length;
}

function addLog(into: BatchLog, log: BatchLog): void {
  for (const k of Object.keys(into.points) as Array<keyof BatchLog['points']>) into.points[k] += log.points[k];
  for (const k of Object.keys(into.redemptions) as Array<keyof BatchLog['redemptions']>) into.redemptions[k] += log.redemptions[k];
}
