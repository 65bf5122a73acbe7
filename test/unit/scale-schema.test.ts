import { describe, expect, it } from 'vitest';
import {
  assertValidScale,
  parseScaleJson,
  pointerToPath,
  SCALE_JSON_SCHEMA,
  scaleErrors,
  award,
  toM100,
  applyAssignments,
  diffScales,
  formatChange,
  parseAssignment,
  parsePath,
  type ScaleDocument,
} from '../../src/core/scale/index.js';
import { POINTS_MAX } from '../../src/core/bounds.js';
import { DEFAULT } from '../helpers/scale-doc.js';
import { failure } from '../helpers/failure.js';

const clone = (): ScaleDocument => structuredClone(DEFAULT);

describe('scale schema', () => {
  it('accepts the default scale and a user_reportable action', () => {
    expect(scaleErrors(DEFAULT)).toEqual([]);
    const d = clone();
    d.actions.photo_added = { points: 5, daily_cap: 3, user_reportable: true };
    expect(scaleErrors(d)).toEqual([]);
  });

  it('lists every problem with its path in one go', () => {
    const d = clone() as unknown as Record<string, any>;
    d.actions.listing_created.points = -5;
    d.actions.review_posted.bonus = 3;
    d.actions['Bad Name'] = { points: 1 };
    d.daily.multipliers[1].multiplier = 'lots';
    d.colour = 'blue';
    delete d.expiry_days;
    const errs = scaleErrors(d);
    const where = errs.map((e) => e.where);
    expect(where).toEqual(expect.arrayContaining([
      'actions.listing_created.points', 'actions.review_posted.bonus', 'actions.Bad Name',
      'daily.multipliers[1].multiplier', 'colour', 'expiry_days',
    ]));
    expect(errs.find((e) => e.where === 'colour')?.message).toBe('unknown key');
    expect(errs.find((e) => e.where === 'expiry_days')?.message).toBe('is required');
  });

  it('refuses multipliers not increasing by day, unordered thresholds, too many decimals', () => {
    const d = clone();
    d.daily.multipliers[2] = { from_day: 3, multiplier: 1.1 };
    d.daily.multipliers[4].multiplier = 3.333;
    d.statuses[2].min_lifetime_points = 1000;
    d.statuses[0].min_lifetime_points = 5;
    const errs = scaleErrors(d);
    expect(errs).toEqual(expect.arrayContaining([
      { where: 'daily.multipliers[2].from_day', message: expect.stringMatching(/greater/) },
      { where: 'daily.multipliers[2].multiplier', message: expect.stringMatching(/greater/) },
      { where: 'daily.multipliers[4].multiplier', message: 'at most two decimals' },
      { where: 'statuses[2].min_lifetime_points', message: expect.stringMatching(/greater/) },
      { where: 'statuses[0].min_lifetime_points', message: expect.stringMatching(/start at 0/) },
    ]));
  });

  it('throws VALIDATION_ERROR with details, and names unknown statuses', () => {
    const d = clone();
    d.statuses[2].code = 'platinum';
    const err = failure(() => assertValidScale(d, new Set(['bronze', 'silver', 'gold'])));
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.details).toEqual([{ where: 'statuses[2].code', message: expect.stringMatching(/unknown status platinum/) }]);
  });

  it('parses JSON or says where it breaks', () => {
    expect(parseScaleJson('\uFEFF{"a":1}', 'f.json')).toEqual({ a: 1 });
    expect(parseScaleJson('{"version":3,"effective_from":"2027-01-01","document":{"a":1}}', 'show.json')).toEqual({ a: 1 });
    expect(() => parseScaleJson('{"a":', 'f.json')).toThrow(/f.json is not valid JSON/);
    expect(pointerToPath('/daily/multipliers/0/from_day')).toBe('daily.multipliers[0].from_day');
  });
});

describe('scale set and diff', () => {
  it('parses paths and assignments', () => {
    expect(parsePath('daily.multipliers[2].multiplier')).toEqual(['daily', 'multipliers', 2, 'multiplier']);
    expect(parseAssignment('actions.review_posted.daily_cap=8')).toEqual({ path: 'actions.review_posted.daily_cap', value: 8 });
    expect(parseAssignment('actions.x={"points":5}').value).toEqual({ points: 5 });
    expect(parseAssignment('statuses[0].code=bronze').value).toBe('bronze');
    expect(() => parseAssignment('nothing')).toThrow(/PATH=VALUE/);
    expect(() => parsePath('a..b')).toThrow(/invalid path/);
  });

  it('applies assignments to a copy, removes with null, refuses unknown actions', () => {
    const out = applyAssignments(DEFAULT, [
      parseAssignment('actions.review_posted.daily_cap=8'),
      parseAssignment('daily.multipliers[1].multiplier=1.3'),
      parseAssignment('actions.profile_completed=null'),
      parseAssignment('actions.photo_added={"points":5,"user_reportable":true}'),
    ]);
    expect(out.actions.review_posted.daily_cap).toBe(8);
    expect(out.daily.multipliers[1].multiplier).toBe(1.3);
    expect(out.actions.profile_completed).toBeUndefined();
    expect(DEFAULT.actions.review_posted.daily_cap).toBe(5);
    expect(() => applyAssignments(DEFAULT, [parseAssignment('actions.listing_craeted.points=30')])).toThrow(/cannot apply/);
    const err = failure(() => applyAssignments(DEFAULT, [parseAssignment('actions.listing_craeted.points=30'), parseAssignment('daily.nope.x=1')]));
    expect(err.details?.map((d) => d.where)).toEqual(['actions.listing_craeted.points', 'daily.nope.x']);
  });

  it('diffs leaf by leaf, readable', () => {
    const b = applyAssignments(DEFAULT, [parseAssignment('actions.review_posted.points=15'), parseAssignment('actions.new_one={"points":1}'), parseAssignment('actions.profile_completed.lifetime_cap=null')]);
    const lines = diffScales(DEFAULT, b).map(formatChange);
    expect(lines).toEqual([
      '~ actions.review_posted.points: 10 → 15',
      '- actions.profile_completed.lifetime_cap: 1',
      '+ actions.new_one.points: 1',
    ]);
    expect(diffScales(DEFAULT, clone())).toEqual([]);
  });
});

describe('scale schema bounds', () => {
  it('refuses a user_reportable action with neither daily_cap nor lifetime_cap, naming its path', () => {
    const d = clone();
    d.actions.photo_added = { points: 5, user_reportable: true };
    d.actions.shared_post = { points: 5, user_reportable: true, lifetime_cap: 2 };
    d.actions.platform_only = { points: 5, user_reportable: false };
    expect(scaleErrors(d)).toEqual([{ where: 'actions.photo_added', message: 'a user_reportable action needs a daily_cap or a lifetime_cap' }]);
    expect(() => assertValidScale(d)).toThrow(/invalid scale: 1 problem/);
    // `scale set` builds its document the same way and validates it with the same schema.
    const set = applyAssignments(DEFAULT, [parseAssignment('actions.photo_added={"points":5,"user_reportable":true}')]);
    expect(scaleErrors(set).map((e) => e.where)).toEqual(['actions.photo_added']);
  });

  it('makes an award that overflows the ledger impossible: the largest award the ceilings allow fits', () => {
    const props = SCALE_JSON_SCHEMA.properties;
    const maxBase = props.daily.properties.base_points.maximum;
    const maxActionPoints = props.actions.additionalProperties.properties.points.maximum;
    const maxMultiplier = props.daily.properties.multipliers.items.properties.multiplier.maximum;
    const maxBonus = props.statuses.items.properties.earn_bonus_pct.maximum;
    const d = clone();
    d.daily.base_points = maxBase;
    d.daily.multipliers = [{ from_day: 1, multiplier: 1 }, { from_day: 2, multiplier: maxMultiplier }];
    d.actions.listing_created.points = maxActionPoints;
    d.statuses[2].earn_bonus_pct = maxBonus;
    d.statuses[2].min_lifetime_points = POINTS_MAX;
    expect(scaleErrors(d)).toEqual([]);
    const largest = Math.max(award(maxBase, toM100(maxMultiplier), maxBonus), award(maxActionPoints, 100, maxBonus));
    expect(largest).toBe(1_100_000_000);
    expect(largest).toBeLessThanOrEqual(POINTS_MAX);

    const over = structuredClone(d);
    over.daily.base_points = maxBase + 1;
    over.daily.multipliers[1].multiplier = maxMultiplier + 1;
    over.actions.listing_created.points = maxActionPoints + 1;
    over.statuses[2].earn_bonus_pct = maxBonus + 1;
    over.statuses[2].min_lifetime_points = 3_000_000_000;
    over.actions.review_posted.daily_cap = 3_000_000_000;
    over.actions.profile_completed.lifetime_cap = 3_000_000_000;
    over.expiry_days = 3_000_000_000;
    expect(scaleErrors(over).map((e) => e.where).sort()).toEqual([
      'actions.listing_created.points', 'actions.profile_completed.lifetime_cap', 'actions.review_posted.daily_cap',
      'daily.base_points', 'daily.multipliers[1].multiplier', 'expiry_days', 'statuses[2].earn_bonus_pct', 'statuses[2].min_lifetime_points',
    ]);
  });
});
