import { addDays, daysBetween, localDate } from '../time.js';
import { Rng, STREAM } from './prng.js';
import { demoName, GOODWILL_SHARE, NEW_USER_SHARE, PRIOR_ACCOUNT_DAYS, PROFILE_MIX, PROFILES, TERRITORY_WEIGHTS, type ActionCode, type ProfileCode } from './profiles.js';
import type { DemoTerritory, DemoWorld } from './world.js';

/**
 * Who the demo's users are: territory, registration instant, profile, and for some a scripted
 * part of their history (the fraud patterns, an operator's credits). Drawn from the user's own
 * random stream, so user n is the same whatever the batch size.
 */

/** One thing a user (or someone acting on their account) does at an instant. */
export type DemoEvent =
  | { kind: 'collect'; at: Date }
  | { kind: 'earn'; at: Date; action: ActionCode; ref: string }
  | { kind: 'redeem'; at: Date; /** a given reward cost (the cheapest at least this), else a random affordable one */ minCost?: number; /** ops' decision on a manual reward, else drawn */ decision?: 'approve' | 'reject' }
  | { kind: 'decide'; at: Date; redemptionId: number; approve: boolean }
  | { kind: 'adjust'; at: Date; amount: number; actor: string; reason: string; ticket: string };

export interface ScriptedDay {
  events: DemoEvent[];
  /** The given events are the whole day: nothing is drawn on it. */
  replace: boolean;
}

export interface UserPlan {
  index: number;
  id: string;
  email: string;
  name: string;
  territory: DemoTerritory;
  createdAt: Date;
  profile: ProfileCode;
  /** Churners: days of activity before they stop. */
  activeDays: number;
  /** Local dates with given events (the fraud patterns, an operator's credit). */
  script: Map<string, ScriptedDay>;
  /** Only the script: no drawn activity at all. */
  scriptOnly: boolean;
  rng: Rng;
}

export function userId(world: DemoWorld, territory: string, index: number): string {
  return `${world.prefix}${territory.toLowerCase()}-${String(index + 1).padStart(6, '0')}`;
}

/** Seconds into a local day → the instant (local days here are 23 h at least: offsets stay below). */
export function at(world: DemoWorld, t: DemoTerritory, day: string, seconds: number): Date {
  return new Date(world.dayStart(t.tz, day).getTime() + seconds * 1000);
}

export function planUser(world: DemoWorld, index: number, territories: DemoTerritory[]): UserPlan {
  const rng = new Rng(world.seed, STREAM.user, index);
  const weights = Object.fromEntries(territories.map((t) => [t.code, TERRITORY_WEIGHTS[t.code] ?? 5]));
  const territory = territories.find((t) => t.code === rng.weighted(weights))!;
  const id = userId(world, territory.code, index);
  const profile = rng.weighted(PROFILE_MIX);
  const periodDays = daysBetween(territory.start, territory.end) + 1;
  let createdAt: Date;
  if (rng.chance(NEW_USER_SHARE)) {
    createdAt = at(world, territory, addDays(territory.start, rng.int(0, periodDays - 1)), rng.int(6 * 3600, 22 * 3600));
  } else {
    createdAt = at(world, territory, addDays(territory.start, -rng.int(1, PRIOR_ACCOUNT_DAYS)), rng.int(0, 86_399));
  }
  const range = PROFILES[profile].activeDays;
  const plan: UserPlan = {
    index, id, email: `${id}@demo.rayon.test`, name: demoName(rng), territory, createdAt, profile,
    activeDays: range ? rng.int(range[0], range[1]) : Number.MAX_SAFE_INTEGER,
    script: new Map(), scriptOnly: false, rng,
  };
  if (profile !== 'dormant' && rng.chance(GOODWILL_SHARE)) {
    const first = localDate(createdAt, territory.tz) > territory.start ? localDate(createdAt, territory.tz) : territory.start;
    const span = daysBetween(first, territory.end);
    if (span > 1) {
      const day = addDays(first, rng.int(1, span));
      addScripted(plan, day, { kind: 'adjust', at: at(world, territory, day, rng.int(9 * 3600, 17 * 3600)), amount: rng.pick([50, 100, 150, 200]), actor: 'support.demo', reason: 'goodwill gesture after a late delivery', ticket: `SUP-${1000 + index}` }, false);
    }
  }
  return plan;
}

/** Add a given event on a day; `replace` makes the given events the whole day (nothing drawn). */
export function addScripted(plan: UserPlan, day: string, ev: DemoEvent, replace = true): void {
  const d = plan.script.get(day) ?? { events: [], replace: false };
  d.events.push(ev);
  d.replace ||= replace;
  plan.script.set(day, d);
}
