import type { Knex } from 'knex';
import { RayonError, validationError, type FieldError } from '../errors.js';
import { audit } from '../audit/index.js';
import { listScaleVersions, normaliseVersion, versionInForce, type ScaleDocument, type ScaleVersion } from './document.js';
import { assertValidScale } from './schema.js';
import { isIsoDate, localDate } from '../time.js';

/**
 * Changing the scale: a new version, never an edit. A version takes effect on a local date that
 * must be later than today's local date in every territory, so no event already recorded — in
 * any time zone — can fall under it (scales never rewrite history).
 */

// ---- paths: `daily.multipliers[2].multiplier`, `actions.review_posted.daily_cap` ----

export function parsePath(path: string): Array<string | number> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\]|\.\d+)*$/.test(path)) {
    throw validationError(`invalid path ${JSON.stringify(path)}: use dots and [index], e.g. daily.multipliers[1].multiplier`, [{ where: path, message: 'invalid path' }]);
  }
  return path.match(/[A-Za-z_][A-Za-z0-9_]*|\d+/g)!.map((seg) => (/^\d+$/.test(seg) ? Number(seg) : seg));
}

export interface Assignment {
  path: string;
  value: unknown;
}

/** `PATH=VALUE`: the value is JSON when it parses as JSON (numbers, true, null, objects), else a string. */
export function parseAssignment(text: string): Assignment {
  const eq = text.indexOf('=');
  if (eq <= 0) throw validationError(`expected PATH=VALUE, got ${JSON.stringify(text)}`, [{ where: text, message: 'expected PATH=VALUE' }]);
  const path = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1).trim();
  parsePath(path);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    /* a plain string */
  }
  return { path, value };
}

/**
 * Apply assignments to a copy of the document. `null` removes a key (an optional cap, an
 * action). A path into an action the document does not have is refused, so a typo cannot create
 * an action by accident: a new action is set whole (`actions.x={"points":5}`).
 */
export function applyAssignments(doc: ScaleDocument, assignments: Assignment[]): ScaleDocument {
  const out = structuredClone(doc) as unknown as Record<string, unknown>;
  const errs: FieldError[] = [];
  for (const { path, value } of assignments) {
    const segs = parsePath(path);
    if (segs[0] === 'actions' && segs.length > 2 && !(String(segs[1]) in doc.actions)) {
      errs.push({ where: path, message: `unknown action ${segs[1]} (known: ${Object.keys(doc.actions).join(', ')}); to add one, set actions.${segs[1]} to a whole object` });
      continue;
    }
    let node: unknown = out;
    let ok = true;
    for (let i = 0; i < segs.length - 1; i++) {
      const next = (node as Record<string | number, unknown>)[segs[i]];
      if (next === null || typeof next !== 'object') {
        errs.push({ where: path, message: `${segs.slice(0, i + 1).join('.')} does not exist` });
        ok = false;
        break;
      }
      node = next;
    }
    if (!ok) continue;
    const last = segs[segs.length - 1];
    if (Array.isArray(node) && (typeof last !== 'number' || last > node.length)) {
      errs.push({ where: path, message: `index out of range (the list has ${node.length} items)` });
      continue;
    }
    if (value === null) {
      if (Array.isArray(node)) node.splice(last as number, 1);
      else delete (node as Record<string, unknown>)[last];
    } else (node as Record<string | number, unknown>)[last] = value;
  }
  if (errs.length) throw validationError(`cannot apply ${errs.length} assignment(s)`, errs);
  return out as unknown as ScaleDocument;
}

// ---- diff ----

export interface Change {
  path: string;
  kind: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
}

function leaves(v: unknown, prefix: string, out: Map<string, unknown>): Map<string, unknown> {
  if (Array.isArray(v)) v.forEach((x, i) => leaves(x, `${prefix}[${i}]`, out));
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) leaves(x, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, v);
  return out;
}

/** Leaf-by-leaf changes from a to b, in document order. */
export function diffScales(a: unknown, b: unknown): Change[] {
  const la = leaves(a, '', new Map());
  const lb = leaves(b, '', new Map());
  const changes: Change[] = [];
  for (const [path, before] of la) {
    if (!lb.has(path)) changes.push({ path, kind: 'removed', before });
    else if (lb.get(path) !== before) changes.push({ path, kind: 'changed', before, after: lb.get(path) });
  }
  for (const [path, after] of lb) if (!la.has(path)) changes.push({ path, kind: 'added', after });
  return changes;
}

export function formatChange(c: Change): string {
  const v = (x: unknown) => JSON.stringify(x);
  if (c.kind === 'added') return `+ ${c.path}: ${v(c.after)}`;
  if (c.kind === 'removed') return `- ${c.path}: ${v(c.before)}`;
  return `~ ${c.path}: ${v(c.before)} → ${v(c.after)}`;
}

// ---- effective date and writing a version ----

/** The latest local date of `now` across all territories: an effective date must be after it. */
export async function latestLocalToday(db: Knex, now: Date): Promise<string> {
  const zones: Array<{ timezone: string }> = await db('territories').distinct('timezone');
  return zones.map((z) => localDate(now, z.timezone)).reduce((a, b) => (b > a ? b : a));
}

export async function assertEffectiveDate(db: Knex, effective: string, now: Date): Promise<void> {
  if (!isIsoDate(effective)) throw validationError(`--effective must be a date YYYY-MM-DD, got ${JSON.stringify(effective)}`, [{ where: '--effective', message: 'not a date' }]);
  const latest = await latestLocalToday(db, now);
  if (effective <= latest) {
    throw validationError(
      `--effective ${effective} is not in the future everywhere: it is already ${latest} in some territory; scales never rewrite history, the earliest possible date is the day after ${latest}`,
      [{ where: '--effective', message: `must be after ${latest}` }],
    );
  }
}

export interface ScaleChangePlan {
  base: ScaleVersion;
  document: ScaleDocument;
  changes: Change[];
  effective: string;
}

/** Validate a candidate and compare it with the version that would be in force on that date. */
export async function planScaleChange(db: Knex, candidate: unknown, effective: string, now: Date): Promise<ScaleChangePlan> {
  await assertEffectiveDate(db, effective, now);
  const known = new Set((await db('statuses').select('code')).map((r: { code: string }) => r.code));
  const document = assertValidScale(candidate, known);
  const base = versionInForce(await listScaleVersions(db), effective);
  return { base, document, changes: diffScales(base.document, document), effective };
}

export interface ApplyOptions {
  reason: string;
  actor: string;
  now: Date;
  /** How the version was made, for the audit log. */
  via: 'apply' | 'set';
  source?: string;
}

/**
 * Write the plan as a new version, with its audit row, in one transaction. The table lock makes
 * two concurrent applies take consecutive version numbers instead of colliding.
 */
export async function writeScaleVersion(db: Knex, plan: ScaleChangePlan, opts: ApplyOptions): Promise<ScaleVersion> {
  if (!opts.reason || !opts.reason.trim()) throw validationError('--reason is required', [{ where: '--reason', message: 'must not be empty' }]);
  if (plan.changes.length === 0) throw new RayonError('VALIDATION_ERROR', 'the scale is unchanged: nothing to write');
  return db.transaction(async (trx) => {
    await trx.raw('lock table scale_versions in share row exclusive mode');
    // Re-checked under the lock: the clock may have crossed midnight somewhere meanwhile.
    await assertEffectiveDate(trx, plan.effective, opts.now);
    const { rows } = await trx.raw(
      `insert into scale_versions (version, effective_from, document, actor, reason, created_at)
       select coalesce(max(version), 0) + 1, ?, ?::jsonb, ?, ?, ? from scale_versions
       returning *`,
      [plan.effective, JSON.stringify(plan.document), opts.actor, opts.reason.trim(), opts.now],
    );
    const v = normaliseVersion(rows[0]);
    await audit(trx, {
      actor: opts.actor,
      action: 'scale.apply',
      target: `scale:${v.version}`,
      details: { via: opts.via, source: opts.source ?? null, effective_from: plan.effective, base_version: plan.base.version, reason: opts.reason.trim(), changes: plan.changes },
      at: opts.now,
    });
    return v;
  });
}

/** `scale set`: the assignments applied to the version that would be in force on the date. */
export async function planScaleSet(db: Knex, assignments: Assignment[], effective: string, now: Date): Promise<ScaleChangePlan> {
  await assertEffectiveDate(db, effective, now);
  const base = versionInForce(await listScaleVersions(db), effective);
  return planScaleChange(db, applyAssignments(base.document, assignments), effective, now);
}
