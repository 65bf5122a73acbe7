import type { Knex } from 'knex';
import { notFound } from '../errors.js';
import { award, bonusOf, scaleAt, toM100, type ScaleDocument, type ScaleMultiplier } from '../scale/index.js';
import { addDays, daysBetween, localDate } from '../time.js';

/**
 * Streak rules (SPEC "Daily collection and streaks"), pure: no clock, no database. Days are
 * local dates (YYYY-MM-DD) in the user's territory, computed by the caller with `localDate`.
 * At the end, `streakStatus`: a user's streak read from the database, with these rules applied.
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

/** A user's `streaks` row as read (null columns before the first collection). */
export interface StreakRow {
  current_streak: number | null;
  max_streak: number | null;
  last_check_in: string | null;
  jokers_available: number | null;
}

export function streakOf(r: StreakRow): StreakState {
  return {
    current: r.current_streak ?? 0,
    max: r.max_streak ?? 0,
    lastCheckIn: r.last_check_in ? String(r.last_check_in).slice(0, 10) : null,
    jokers: r.jokers_available ?? 0,
  };
}

export interface StreakStatus {
  current: number;
  max: number;
  multiplier: number;
  next_points: number;
  collected_today: boolean;
  last_check_in: string | null;
  jokers_available: number;
}

/**
 * The effective streak now: `current` is 0 once broken beyond what the jokers cover;
 * `multiplier` and `next_points` are what a collection now would give (tomorrow's once today's
 * is done), with the bonus of the status held and the scale in force that day. A read: works
 * for suspended users and closed territories too.
 */
export async function streakStatus(db: Knex, userId: string, now: Date): Promise<StreakStatus> {
  const r = await db('users as u')
    .join('territories as t', 't.code', 'u.territory_code')
    .leftJoin('points_balance as b', 'b.user_id', 'u.id')
    .leftJoin('streaks as st', 'st.user_id', 'u.id')
    .where('u.id', userId)
    .first('t.timezone', 'b.status', 'st.current_streak', 'st.max_streak', 'st.last_check_in', 'st.jokers_available');
  if (!r) throw notFound('user', userId);
  const state = streakOf(r);
  const today = localDate(now, r.timezone);
  const todayScale = await scaleAt(db, today);
  const eff = effectiveStreak(state, today, todayScale.document.daily);
  const doc = eff.nextDay === today ? todayScale.document : (await scaleAt(db, eff.nextDay)).document;
  const m100 = m100ForDay(eff.nextStreakDay, doc.daily.multipliers);
  return {
    current: eff.current,
    max: state.max,
    multiplier: m100 / 100,
    next_points: award(doc.daily.base_points, m100, bonusOf(r.status ?? 'bronze', doc.statuses)),
    collected_today: eff.collectedToday,
    last_check_in: state.lastCheckIn,
    jokers_available: state.jokers,
  };
}
