import type { Knex } from 'knex';

/** A scale (barème) document, as stored in scale_versions.document (SPEC "Scale"). */
export interface ScaleMultiplier {
  from_day: number;
  multiplier: number;
}
export interface ScaleAction {
  points: number;
  daily_cap?: number;
  lifetime_cap?: number;
  user_reportable?: boolean;
}
export interface ScaleStatus {
  code: string;
  min_lifetime_points: number;
  earn_bonus_pct: number;
}
export interface ScaleDocument {
  daily: { base_points: number; multipliers: ScaleMultiplier[]; joker_every_days: number; max_jokers: number };
  actions: Record<string, ScaleAction>;
  expiry_days: number;
  statuses: ScaleStatus[];
  point_value_eur: number;
}

export interface ScaleVersion {
  version: number;
  effective_from: string;
  document: ScaleDocument;
  actor: string;
  reason: string;
  created_at: Date;
}

/** A multiplier with at most two decimals, as integer hundredths (1.2 → 120). */
export function toM100(multiplier: number): number {
  return Math.round(multiplier * 100);
}

/**
 * The award formula, in integers only: floor(points × m100 × (100 + bonus) / 10000).
 * Identical to the SQL `(points * m100 * (100 + bonus)) / 10000` on integers.
 */
export function award(points: number, m100: number, bonusPct: number): number {
  return Math.floor((points * m100 * (100 + bonusPct)) / 10000);
}

/** The highest status whose threshold is reached. */
export function statusFor(lifetimePoints: number, statuses: ScaleStatus[]): ScaleStatus {
  let best = statuses[0];
  for (const s of statuses) {
    if (s.min_lifetime_points <= lifetimePoints && s.min_lifetime_points >= best.min_lifetime_points) best = s;
  }
  return best;
}

export function statusRank(code: string, statuses: ScaleStatus[]): number {
  const sorted = [...statuses].sort((a, b) => a.min_lifetime_points - b.min_lifetime_points);
  return sorted.findIndex((s) => s.code === code);
}

export function bonusOf(code: string, statuses: ScaleStatus[]): number {
  return statuses.find((s) => s.code === code)?.earn_bonus_pct ?? 0;
}

/** Every version, oldest first. */
export async function listScaleVersions(db: Knex): Promise<ScaleVersion[]> {
  const rows = await db('scale_versions').select('*').orderBy('version');
  return rows.map(normaliseVersion);
}

/** The version in force on a local date: the latest whose effective date ≤ that date. */
export async function scaleAt(db: Knex, localDate: string): Promise<ScaleVersion> {
  const { rows } = await db.raw(`select s.* from scale_versions s where s.version = ${scaleVersionAtSql('?::date')}`, [localDate]);
  if (!rows[0]) throw new Error(`no scale version in force on ${localDate}`);
  return normaliseVersion(rows[0]);
}

export function normaliseVersion(row: Record<string, unknown>): ScaleVersion {
  const doc = typeof row.document === 'string' ? (JSON.parse(row.document) as ScaleDocument) : (row.document as ScaleDocument);
  return {
    version: Number(row.version),
    effective_from: String(row.effective_from),
    document: doc,
    actor: String(row.actor),
    reason: String(row.reason),
    created_at: row.created_at as Date,
  };
}

/**
 * The status after a credit: the highest reached with `lifetimePoints`, but never below the one
 * held (a status never goes down by itself).
 */
export function raiseStatus(current: string, lifetimePoints: number, statuses: ScaleStatus[]): string {
  const reached = statusFor(lifetimePoints, statuses);
  return statusRank(reached.code, statuses) > statusRank(current, statuses) ? reached.code : current;
}

/**
 * The version in force on a local date, among already loaded versions: the latest effective
 * date ≤ `localDate`, ties by the higher version number. The one rule for "the scale version in
 * force at an event"; `scaleVersionAtSql` is its SQL twin, pinned to it by
 * test/integration/rule-twins.test.ts.
 */
export function versionInForce<V extends Pick<ScaleVersion, 'version' | 'effective_from'>>(versions: V[], localDate: string): V {
  let best: V | undefined;
  for (const v of versions) {
    if (v.effective_from > localDate) continue;
    if (!best || v.effective_from > best.effective_from || (v.effective_from === best.effective_from && v.version > best.version)) best = v;
  }
  if (!best) throw new Error(`no scale version in force on ${localDate}`);
  return best;
}

/**
 * `versionInForce` in SQL, for statements that read the version with their other figures in one
 * round trip (the daily collection, earning, `scaleAt`): a scalar sub-select giving the version
 * number in force on `day` (a trusted SQL expression of type date, never user input), or null.
 */
export function scaleVersionAtSql(day: string): string {
  return `(select v.version from scale_versions v where v.effective_from <= ${day}
            order by v.effective_from desc, v.version desc limit 1)`;
}

/** The scale version with this number. */
export async function getScaleVersion(db: Knex, version: number): Promise<ScaleVersion | null> {
  const row = await db('scale_versions').where({ version }).first();
  return row ? normaliseVersion(row) : null;
}

/**
 * Scale versions are immutable once written (a new version never edits an old one), so the hot
 * paths keep them by number. The cache is per database (keyed on the Knex client's config
 * object, which a transaction shares with its root), since version numbers are per database.
 */
const versionCache = new WeakMap<object, Map<number, ScaleVersion>>();

export async function cachedScaleVersion(
  db: Knex,
  version: number,
  /** How to read the row on a miss (the hot path reads it on its own connection). */
  load: (version: number) => Promise<Record<string, unknown> | undefined> = (v) => db('scale_versions').where({ version: v }).first(),
): Promise<ScaleVersion> {
  const key = (db.client as { config?: object }).config ?? db.client;
  let byVersion = versionCache.get(key);
  if (!byVersion) versionCache.set(key, (byVersion = new Map()));
  let v = byVersion.get(version);
  if (!v) {
    const row = await load(version);
    if (!row) throw new Error(`scale version ${version} not found`);
    v = normaliseVersion(row);
    byVersion.set(version, v);
  }
  return v;
}
