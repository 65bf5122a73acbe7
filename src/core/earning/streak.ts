import { award, bonusOf, toM100, type ScaleDocument, type ScaleMultiplier } from '../scale/index.js';
import { addDays, daysBetween } from '../time.js';

/**
 * Streak rules (SPEC "Daily collection and streaks"), pure: no clock, no database. Days are
 * local dates (YYYY-MM-DD) in the user's territory, computed by the caller with `localDate`.
 */

export interface StreakState {
  current: number;
  max: number;
  /** Local date of the last collection, null before the first one. */
  lastCheckIn: string | null;
  jokers: number;
}

export interface StreakRules {
  joker_every_days: number;
  max_jokers: number;
}

export type StreakTransition =
  | { kind: 'already_collected' }
  | {
      kind: 'collected';
      next: StreakState;
      /** The streak day of this collection (1 when the streak restarts). */
      streakDay: number;
      /** Jokers spent to cover missed days. */
      jokersUsed: number;
      jokerEarned: boolean;
      restarted: boolean;
    };

export const NEW_STREAK: StreakState = { current: 0, max: 0, lastCheckIn: null, jokers: 0 };

/**
 * Collecting on local day `day`. `last_check_in >= day` (already collected, or a territory
 * change moved the local date back) refuses. Jokers are spent first (to cover missed days),
 * then earned (on each multiple of `joker_every_days`, while fewer than `max_jokers` are held).
 */
export function streakTransition(state: StreakState, day: string, rules: StreakRules): StreakTransition {
  let current: number;
  let jokers = state.jokers;
  let jokersUsed = 0;
  let restarted = false;
  if (state.lastCheckIn === null) {
    current = 1;
    restarted = true;
  } else {
    const gap = daysBetween(state.lastCheckIn, day);
    if (gap <= 0) return { kind: 'already_collected' };
    if (gap === 1) current = state.current + 1;
    else if (jokers >= gap - 1) {
      // Missed days are covered, not counted: the streak goes on by one.
      jokersUsed = gap - 1;
      jokers -= jokersUsed;
      current = state.current + 1;
    } else {
      // Jokers held are kept for the next run.
      current = 1;
      restarted = true;
    }
  }
  const jokerEarned = current % rules.joker_every_days === 0 && jokers < rules.max_jokers;
  if (jokerEarned) jokers += 1;
  return {
    kind: 'collected',
    next: { current, max: Math.max(state.max, current), lastCheckIn: day, jokers },
    streakDay: current,
    jokersUsed,
    jokerEarned,
    restarted,
  };
}

/** The multiplier of a streak day, in hundredths: the last step whose `from_day` is reached. */
export function m100ForDay(streakDay: number, multipliers: ScaleMultiplier[]): number {
  let m = 100;
  let from = 0;
  for (const step of multipliers) {
    if (step.from_day <= streakDay && step.from_day >= from) {
      m = toM100(step.multiplier);
      from = step.from_day;
    }
  }
  return m;
}

/** Points of one daily collection: base points × multiplier of the streak day × status bonus. */
export function dailyAward(doc: ScaleDocument, streakDay: number, statusBefore: string): { points: number; m100: number; bonusPct: number } {
  const m100 = m100ForDay(streakDay, doc.daily.multipliers);
  const bonusPct = bonusOf(statusBefore, doc.statuses);
  return { points: award(doc.daily.base_points, m100, bonusPct), m100, bonusPct };
}

export interface EffectiveStreak {
  /** The streak as it stands now: 0 when broken beyond what the jokers cover. */
  current: number;
  collectedToday: boolean;
  /** The streak day the next collection would be (today's, or tomorrow's once today's is done). */
  nextStreakDay: number;
  /** The local date of that next collection. */
  nextDay: string;
}

/**
 * The effective state on local day `today` (for the streak status read): what a collection now
 * would do, or tomorrow's when today's is done.
 */
export function effectiveStreak(state: StreakState, today: string, rules: StreakRules): EffectiveStreak {
  const t = streakTransition(state, today, rules);
  if (t.kind === 'already_collected') {
    // A territory change can put last_check_in after today: the next collection is the day after it.
    const nextDay = addDays(state.lastCheckIn as string, 1);
    return { current: state.current, collectedToday: true, nextStreakDay: state.current + 1, nextDay };
  }
  return { current: t.restarted ? 0 : state.current, collectedToday: false, nextStreakDay: t.streakDay, nextDay: today };
}
