import { normaliseReference } from '../earning/index.js';
import { addDays } from '../time.js';
import { addScripted, at, userId, type DemoEvent, type UserPlan } from './plan.js';
import type { ActionCode } from './profiles.js';
import type { DemoTerritory, DemoWorld } from './world.js';
import { DEMO_ACTORS } from './world.js';

/**
 * The fraud patterns the demo plants for `rayon fraud scan` to find (SPEC "Fraud and
 * suspensions"), on dedicated users at the start of the numbering, all in one territory and in the
 * last days of the history, each a little past its rule's default threshold:
 * earn_velocity, refused_burst, shared_reference, redeem_burst, new_account_redeem,
 * lockstep_farm and operator_adjustments. Their events go through the same rules as everyone's.
 */

/** Below these sizes the demo plants no pattern (they need room and a few weeks of history). */
export const PATTERN_MIN_USERS = 100;
export const PATTERN_MIN_DAYS = 14;

type Modifier = (plan: UserPlan) => void;

export interface Patterns {
  /** Rule → the users (or `operator:<actor>`) planted to trip it. */
  planted: Record<string, string[]>;
  /** A user with a story for `rayon user show`: a joker-bridged streak, an expiry, a refund. */
  showcase: string | null;
  modifierFor(index: number): Modifier | undefined;
}

const HOUR = 3600;

export function plantPatterns(world: DemoWorld, t: DemoTerritory, users: number, days: number): Patterns {
  const planted: Record<string, string[]> = {};
  const mods = new Map<number, Modifier>();
  if (users < PATTERN_MIN_USERS || days < PATTERN_MIN_DAYS) return { planted, showcase: null, modifierFor: () => undefined };
  const E = t.end;
  const day = (n: number) => addDays(E, -n);
  const when = (d: string, seconds: number) => at(world, t, d, seconds);
  // The first numbers: their events come before anyone else's in the generation order, so a
  // stocked reward a pattern needs is never sold out to users generated before them.
  let next = 0;
  const add = (rule: string, mod: Modifier, subject?: string) => {
    const index = next++;
    mods.set(index, (plan) => {
      plan.territory = t;
      plan.id = userId(world, t.code, index);
      plan.email = `${plan.id}@demo.rayon.test`;
      mod(plan);
    });
    (planted[rule] ??= []).includes(subject ?? userId(world, t.code, index)) || planted[rule].push(subject ?? userId(world, t.code, index));
  };
  const earn = (d: string, s: number, action: ActionCode, ref: string): DemoEvent => ({ kind: 'earn', at: when(d, s), action, ref });
  const collect = (d: string, s: number): DemoEvent => ({ kind: 'collect', at: when(d, s) });

  // 23 earns in 35 minutes, all within the caps (threshold: more than 20 in an hour).
  add('earn_velocity', (p) => {
    Object.assign(p, { profile: 'daily', createdAt: when(day(30), 10 * HOUR) });
    addScripted(p, day(1), collect(day(1), 8 * HOUR));
    const actions: ActionCode[] = [...Array(5).fill('listing_created'), ...Array(10).fill('transaction_completed'), ...Array(5).fill('review_posted'), ...Array(3).fill('referral_signup')];
    actions.forEach((a, k) => addScripted(p, day(1), earn(day(1), 19.5 * HOUR + k * 90, a, `vel-${p.id}-${k}`)));
  });
  // 17 listings reported in one morning: 5 credited, 12 refused by the daily cap (threshold 10).
  add('refused_burst', (p) => {
    Object.assign(p, { profile: 'seller', createdAt: when(day(40), 9 * HOUR) });
    addScripted(p, day(1), collect(day(1), 8 * HOUR));
    for (let k = 0; k < 17; k++) addScripted(p, day(1), earn(day(1), 10 * HOUR + k * 180, 'listing_created', `lst-${p.id}-${k}`));
  });
  // One order number credited to four users, in spellings that normalise (or fold) to one.
  const spellings = ['CMD-2026-77731', 'cmd-2026-77731', '\uff23\uff2d\uff24-2026-77731', 'CMD-2026-77731\u200b'];
  for (const [k, raw] of spellings.entries()) {
    add('shared_reference', (p) => {
      Object.assign(p, { profile: 'occasional', createdAt: when(day(50 - k), 11 * HOUR) });
      addScripted(p, day(1 + (k % 2)), earn(day(1 + (k % 2)), 12 * HOUR + k * 37 * 60, 'transaction_completed', normaliseReference(raw)), false);
    });
  }
  // Seven redemptions in half an hour (threshold: more than 5 in the window).
  add('redeem_burst', (p) => {
    Object.assign(p, { profile: 'seller', createdAt: when(day(60), 9 * HOUR) });
    for (let k = 0; k < 3; k++) addScripted(p, day(3), earn(day(3), 14 * HOUR + k * 600, 'referral_signup', `ref-${p.id}-${k}`), false);
    addScripted(p, day(0), collect(day(0), 8 * HOUR));
    for (let k = 0; k < 7; k++) addScripted(p, day(0), { kind: 'redeem', at: when(day(0), 19 * HOUR + k * 240), minCost: 0 });
  });
  // An account two days old earning fast and redeeming more than 2,000 points (threshold 2,000).
  add('new_account_redeem', (p) => {
    Object.assign(p, { profile: 'seller', scriptOnly: true, createdAt: when(day(2), 9 * HOUR) });
    addScripted(p, day(2), earn(day(2), 10 * HOUR, 'profile_completed', `profile-${p.id}`));
    for (const d of [day(2), day(1), day(0)]) {
      addScripted(p, d, collect(d, 9.5 * HOUR));
      for (let k = 0; k < 3; k++) addScripted(p, d, earn(d, 11 * HOUR + k * 2 * HOUR, 'referral_signup', `ref-${p.id}-${d}-${k}`));
      if (d !== day(0)) for (let k = 0; k < 10; k++) addScripted(p, d, earn(d, 12 * HOUR + k * 25 * 60, 'transaction_completed', `ord-${p.id}-${d}-${k}`));
    }
    addScripted(p, day(0), { kind: 'redeem', at: when(day(0), 20 * HOUR), minCost: 2001 });
  });
  // Six accounts created within 40 minutes, collecting on the same six days and nothing else.
  for (let k = 0; k < 6; k++) {
    add('lockstep_farm', (p) => {
      Object.assign(p, { profile: 'daily', scriptOnly: true, createdAt: when(day(9), 3 * HOUR + 5 * 60 + k * 7 * 60) });
      for (let n = 6; n >= 1; n--) addScripted(p, day(n), collect(day(n), 7 * HOUR + k * 120));
    });
  }
  // One operator crediting 6 × 4,000 points in an afternoon (threshold 20,000 points a day).
  for (let k = 0; k < 6; k++) {
    add('operator_adjustments', (p) => {
      Object.assign(p, { profile: 'daily', createdAt: when(day(90), 10 * HOUR) });
      addScripted(p, day(1), { kind: 'adjust', at: when(day(1), 15 * HOUR + k * 180), amount: 4000, actor: DEMO_ACTORS.rogue, reason: 'commercial gesture', ticket: `SUP-9${100 + k}` }, false);
    }, `operator:${DEMO_ACTORS.rogue}`);
  }
  // The showcase: collects every day but one (a joker covers it), lists often, gets a goodwill
  // credit, and has a manual redemption rejected and refunded near the end; its first points expire.
  const showcase = userId(world, t.code, next);
  add('showcase', (p) => {
    Object.assign(p, { profile: 'daily', scriptOnly: true, createdAt: when(addDays(t.start, -10), 10 * HOUR) });
    t.days.forEach((d, i) => {
      if (i !== 9) addScripted(p, d, collect(d, 8 * HOUR));
      if (i % 2 === 0) for (let k = 0; k < 3; k++) addScripted(p, d, earn(d, 12 * HOUR + k * 900, 'listing_created', `lst-${p.id}-${i}-${k}`));
    });
    addScripted(p, t.days[5], { kind: 'adjust', at: when(t.days[5], 10 * HOUR), amount: 300, actor: DEMO_ACTORS.support, reason: 'goodwill gesture after a late delivery', ticket: 'SUP-1001' });
    addScripted(p, day(6), { kind: 'redeem', at: when(day(6), 19 * HOUR), minCost: 1200, decision: 'reject' });
  });
  delete planted.showcase;
  return { planted, showcase, modifierFor: (index) => mods.get(index) };
}
