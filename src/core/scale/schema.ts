import { Ajv, type ErrorObject } from 'ajv';
import type { FieldError } from '../errors.js';
import { validationError } from '../errors.js';
import { POINTS_MAX } from '../bounds.js';
import type { ScaleDocument } from './document.js';

/**
 * The published JSON Schema of a scale document (SPEC "Scale"), plus the rules a JSON Schema
 * cannot say (steps ordered by day, thresholds ordered, at most two decimals). Every problem is
 * reported with its path, e.g. `actions.listing_created.points`. Its ceilings make an award
 * that overflows the ledger impossible, and a user_reportable action must carry a cap.
 */

const nonNegInt = { type: 'integer', minimum: 0 } as const;
const posInt = { type: 'integer', minimum: 1 } as const;

/**
 * Ceilings that keep every figure inside the ledger's integer columns (POINTS_MAX): the largest
 * award, floor(points × m100 × (100 + bonus) / 10000) at the ceilings, is
 * 1,000,000 × 10,000 × 1,100 / 10,000 = 1,100,000,000 points, which fits (a unit test pins it).
 */
export const SCALE_LIMITS = {
  /** base_points and an action's points. */
  points: 1_000_000,
  multiplier: 100,
  earnBonusPct: 1000,
  /** daily_cap and lifetime_cap: earns counted, not points. */
  cap: 1_000_000,
  minLifetimePoints: POINTS_MAX,
  expiryDays: 36_500,
} as const;

export const SCALE_JSON_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://rayon.example/schemas/scale.json',
  title: 'Rayon points scale (barème)',
  type: 'object',
  additionalProperties: false,
  required: ['daily', 'actions', 'expiry_days', 'statuses', 'point_value_eur'],
  properties: {
    daily: {
      type: 'object',
      additionalProperties: false,
      required: ['base_points', 'multipliers', 'joker_every_days', 'max_jokers'],
      properties: {
        base_points: { ...posInt, maximum: SCALE_LIMITS.points },
        multipliers: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['from_day', 'multiplier'],
            properties: {
              from_day: { ...posInt, maximum: 100_000 },
              // Below 1 would make an award a penalty (and could floor to 0 points).
              multiplier: { type: 'number', minimum: 1, maximum: SCALE_LIMITS.multiplier },
            },
          },
        },
        joker_every_days: { ...posInt, maximum: 10_000 },
        max_jokers: { ...nonNegInt, maximum: 1000 },
      },
    },
    actions: {
      type: 'object',
      propertyNames: { pattern: '^[a-z][a-z0-9_]{0,63}$' },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['points'],
        properties: {
          points: { ...posInt, maximum: SCALE_LIMITS.points },
          daily_cap: { ...posInt, maximum: SCALE_LIMITS.cap },
          lifetime_cap: { ...posInt, maximum: SCALE_LIMITS.cap },
          user_reportable: { type: 'boolean' },
        },
        // An action users report themselves must be capped: otherwise a user token could earn
        // without limit by inventing references.
        if: { required: ['user_reportable'], properties: { user_reportable: { const: true } } },
        then: {
          anyOf: [
            { properties: { daily_cap: { type: 'integer' } }, required: ['daily_cap'] },
            { properties: { lifetime_cap: { type: 'integer' } }, required: ['lifetime_cap'] },
          ],
        },
      },
    },
    expiry_days: { ...posInt, maximum: SCALE_LIMITS.expiryDays },
    statuses: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['code', 'min_lifetime_points', 'earn_bonus_pct'],
        properties: {
          code: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,31}$' },
          min_lifetime_points: { ...nonNegInt, maximum: SCALE_LIMITS.minLifetimePoints },
          earn_bonus_pct: { ...nonNegInt, maximum: SCALE_LIMITS.earnBonusPct },
        },
      },
    },
    point_value_eur: { type: 'number', exclusiveMinimum: 0, maximum: 1000 },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true });
const validate = ajv.compile(SCALE_JSON_SCHEMA);

/** `/daily/multipliers/2/multiplier` → `daily.multipliers[2].multiplier`. */
export function pointerToPath(pointer: string): string {
  if (!pointer) return '(document)';
  return pointer
    .split('/')
    .slice(1)
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}

function ajvError(e: ErrorObject): FieldError {
  const base = pointerToPath(e.instancePath);
  const join = (key: string) => (base === '(document)' ? key : `${base}.${key}`);
  switch (e.keyword) {
    case 'if':
      // The only conditional: a user_reportable action without a cap.
      return { where: base, message: 'a user_reportable action needs a daily_cap or a lifetime_cap' };
    case 'additionalProperties':
      return { where: join(String(e.params.additionalProperty)), message: 'unknown key' };
    case 'required':
      return { where: join(String(e.params.missingProperty)), message: 'is required' };
    case 'propertyNames':
      return { where: join(String(e.params.propertyName)), message: 'action names are 1-64 characters of a-z 0-9 _, starting with a letter' };
    case 'pattern':
      return { where: base, message: `must match ${e.params.pattern}` };
    default:
      return { where: base, message: e.message ?? e.keyword };
  }
}

function hasAtMostDecimals(x: number, decimals: number): boolean {
  const scaled = x * 10 ** decimals;
  return Math.abs(scaled - Math.round(scaled)) < 1e-9 * Math.max(1, Math.abs(scaled));
}

/** Rules across items, run once the shape is right. */
function semanticErrors(doc: ScaleDocument): FieldError[] {
  const errs: FieldError[] = [];
  const steps = doc.daily.multipliers;
  if (steps[0].from_day !== 1) errs.push({ where: 'daily.multipliers[0].from_day', message: 'the first step must start at day 1' });
  steps.forEach((s, i) => {
    if (!hasAtMostDecimals(s.multiplier, 2)) errs.push({ where: `daily.multipliers[${i}].multiplier`, message: 'at most two decimals' });
    if (i === 0) return;
    if (s.from_day <= steps[i - 1].from_day) errs.push({ where: `daily.multipliers[${i}].from_day`, message: `must be greater than the previous step's (${steps[i - 1].from_day})` });
    if (s.multiplier <= steps[i - 1].multiplier) errs.push({ where: `daily.multipliers[${i}].multiplier`, message: `must be greater than the previous step's (${steps[i - 1].multiplier})` });
  });
  const st = doc.statuses;
  if (st[0].min_lifetime_points !== 0) errs.push({ where: 'statuses[0].min_lifetime_points', message: 'the first status must start at 0 points (every user holds a status)' });
  const seen = new Set<string>();
  st.forEach((s, i) => {
    if (seen.has(s.code)) errs.push({ where: `statuses[${i}].code`, message: `duplicate status ${s.code}` });
    seen.add(s.code);
    if (i > 0 && s.min_lifetime_points <= st[i - 1].min_lifetime_points) {
      errs.push({ where: `statuses[${i}].min_lifetime_points`, message: `must be greater than the previous status's (${st[i - 1].min_lifetime_points})` });
    }
  });
  if (!hasAtMostDecimals(doc.point_value_eur, 6)) errs.push({ where: 'point_value_eur', message: 'at most six decimals' });
  return errs;
}

/** Every problem of a candidate scale document, with its path; empty when valid. */
export function scaleErrors(doc: unknown): FieldError[] {
  // The branches of the user_reportable conditional are summed up by its own error ('if').
  if (!validate(doc)) return (validate.errors ?? []).filter((e) => !e.schemaPath.includes('/then/')).map(ajvError);
  return semanticErrors(doc as unknown as ScaleDocument);
}

/** Throw VALIDATION_ERROR listing every problem, or return the typed document. */
export function assertValidScale(doc: unknown, knownStatuses?: Set<string>): ScaleDocument {
  const errs = scaleErrors(doc);
  if (errs.length === 0 && knownStatuses) {
    (doc as ScaleDocument).statuses.forEach((s, i) => {
      if (!knownStatuses.has(s.code)) errs.push({ where: `statuses[${i}].code`, message: `unknown status ${s.code} (known: ${[...knownStatuses].join(', ')})` });
    });
  }
  if (errs.length) throw validationError(`invalid scale: ${errs.length} problem(s)`, errs);
  return doc as ScaleDocument;
}

/**
 * Parse a scale file's text: not JSON is a VALIDATION_ERROR naming the position. The output of
 * `rayon scale show --json` (a version with its `document`) is accepted too, so a product
 * manager can export, edit and apply.
 */
export function parseScaleJson(text: string, name: string): unknown {
  try {
    const parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
    const isVersion = parsed && typeof parsed === 'object' && 'version' in parsed && parsed.document && typeof parsed.document === 'object';
    return isVersion ? parsed.document : parsed;
  } catch (err) {
    throw validationError(`${name} is not valid JSON: ${(err as Error).message}`, [{ where: name, message: (err as Error).message }]);
  }
}
