import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { effectiveStreak, m100ForDay, NEW_STREAK, streakTransition, type StreakState } from '../../src/core/earning/index.js';
import { addDays } from '../../src/core/time.js';

const RULES = { joker_every_days: 7, max_jokers: 3 };
const STEPS = [
  { from_day: 1, multiplier: 1 }, { from_day: 3, multiplier: 1.2 }, { from_day: 7, multiplier: 1.5 },
  { from_day: 14, multiplier: 2 }, { from_day: 30, multiplier: 3 },
];

function collect(state: StreakState, day: string) {
  const t = streakTransition(state, day, RULES);
  if (t.kind !== 'collected') throw new Error(`refused on ${day}`);
  return t;
}

describe('streakTransition', () => {
  it('starts at 1, goes on the next day, refuses the same day or an earlier one', () => {
    const a = collect(NEW_STREAK, '2026-01-01');
    expect(a.next).toEqual({ current: 1, max: 1, lastCheckIn: '2026-01-01', jokers: 0 });
    expect(streakTransition(a.next, '2026-01-01', RULES).kind).toBe('already_collected');
    expect(streakTransition(a.next, '2025-12-31', RULES).kind).toBe('already_collected');
    expect(collect(a.next, '2026-01-02').next.current).toBe(2);
  });

  it('earns a joker on each multiple of joker_every_days, up to max_jokers', () => {
    let s = NEW_STREAK;
    const earned: number[] = [];
    for (let i = 0; i < 35; i++) {
      const t = collect(s, addDays('2026-01-01', i));
      if (t.jokerEarned) earned.push(t.streakDay);
      s = t.next;
    }
    expect(earned).toEqual([7, 14, 21]);
    expect(s.jokers).toBe(3);
  });

  it('covers missed days with jokers (spent first, then earned), else restarts and keeps the jokers', () => {
    const s: StreakState = { current: 6, max: 6, lastCheckIn: '2026-01-06', jokers: 2 };
    // 2 missed days (gap 3): both jokers spent, streak 7 → one joker earned again.
    const covered = collect(s, '2026-01-09');
    expect(covered).toMatchObject({ streakDay: 7, jokersUsed: 2, jokerEarned: true, restarted: false });
    expect(covered.next.jokers).toBe(1);
    // 3 missed days with 2 jokers: restart, jokers kept.
    const reset = collect(s, '2026-01-10');
    expect(reset).toMatchObject({ streakDay: 1, jokersUsed: 0, restarted: true });
    expect(reset.next).toEqual({ current: 1, max: 6, lastCheckIn: '2026-01-10', jokers: 2 });
  });

  it('multiplier of a streak day follows the steps', () => {
    expect([1, 2, 3, 6, 7, 13, 14, 29, 30, 365].map((d) => m100ForDay(d, STEPS))).toEqual([100, 100, 120, 120, 150, 150, 200, 200, 300, 300]);
    // Order of the steps in the document does not matter.
    expect(m100ForDay(8, [...STEPS].reverse())).toBe(150);
  });

  const daySets = fc.uniqueArray(fc.integer({ min: 0, max: 120 }), { minLength: 1, maxLength: 60 }).map((xs) => xs.sort((a, b) => a - b));
  const rules = fc.record({ joker_every_days: fc.integer({ min: 1, max: 10 }), max_jokers: fc.integer({ min: 0, max: 5 }) });

  it('property: the streak never exceeds the distinct days collected, jokers stay in 0..max, max is the running max', () => {
    fc.assert(
      fc.property(daySets, rules, (days, r) => {
        let s = NEW_STREAK;
        let best = 0;
        days.forEach((d, i) => {
          const t = streakTransition(s, addDays('2026-01-01', d), r);
          expect(t.kind).toBe('collected');
          if (t.kind !== 'collected') return;
          s = t.next;
          best = Math.max(best, s.current);
          expect(s.current).toBeGreaterThanOrEqual(1);
          expect(s.current).toBeLessThanOrEqual(i + 1);
          expect(s.jokers).toBeGreaterThanOrEqual(0);
          expect(s.jokers).toBeLessThanOrEqual(r.max_jokers);
          expect(s.max).toBe(best);
        });
      }),
    );
  });

  it('property: one collection per local day — a second one the same day is always refused', () => {
    fc.assert(
      fc.property(daySets, rules, (days, r) => {
        let s = NEW_STREAK;
        for (const d of days) {
          const day = addDays('2026-01-01', d);
          const t = streakTransition(s, day, r);
          if (t.kind !== 'collected') return false;
          s = t.next;
          if (streakTransition(s, day, r).kind !== 'already_collected') return false;
        }
        return true;
      }),
    );
  });

  it('property: collecting every day gives streak = number of days', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), rules, (n, r) => {
        let s = NEW_STREAK;
        for (let i = 0; i < n; i++) s = (streakTransition(s, addDays('2026-01-01', i), r) as { next: StreakState }).next;
        return s.current === n && s.max === n;
      }),
    );
  });
});

describe('effectiveStreak', () => {
  const s: StreakState = { current: 5, max: 9, lastCheckIn: '2026-01-10', jokers: 1 };
  it('collected today: shows tomorrow', () => {
    expect(effectiveStreak(s, '2026-01-10', RULES)).toEqual({ current: 5, collectedToday: true, nextStreakDay: 6, nextDay: '2026-01-11' });
  });
  it('alive or covered by jokers: current kept, next day continues', () => {
    expect(effectiveStreak(s, '2026-01-11', RULES)).toMatchObject({ current: 5, nextStreakDay: 6 });
    expect(effectiveStreak(s, '2026-01-12', RULES)).toMatchObject({ current: 5, nextStreakDay: 6 });
  });
  it('broken beyond the jokers: current 0, next is day 1', () => {
    expect(effectiveStreak(s, '2026-01-13', RULES)).toEqual({ current: 0, collectedToday: false, nextStreakDay: 1, nextDay: '2026-01-13' });
  });
});
