import { describe, expect, it } from 'vitest';
import { compareBalances, describeTransaction, EXPIRING_SOON_DAYS, expiringSoonUntil, parseHistoryBound } from '../../src/core/ledger/index.js';
import { localTime, nextStatus } from '../../src/core/support/index.js';
import { lotExpiry } from '../../src/core/time.js';

const STATUSES = [
  { code: 'bronze', min_lifetime_points: 0, earn_bonus_pct: 0 },
  { code: 'gold', min_lifetime_points: 10000, earn_bonus_pct: 25 },
  { code: 'silver', min_lifetime_points: 2000, earn_bonus_pct: 10 },
];

describe('the "expiring soon" window: 30 local days of the territory', () => {
  const now = new Date('2026-11-25T08:00:00Z');

  it('La Réunion (UTC+4): ends at the first instant of local day today + 30', () => {
    // 12:00 on 2026-11-25 in La Réunion.
    expect(EXPIRING_SOON_DAYS).toBe(30);
    expect(expiringSoonUntil(now, 'Indian/Reunion')).toEqual(new Date('2026-12-24T20:00:00Z'));
  });

  it('Polynésie française (UTC−10, across the date line from UTC): the local day, not the UTC one', () => {
    // 22:00 on 2026-11-24 in Tahiti: today is the 24th there, so the window ends a day earlier than in UTC.
    expect(expiringSoonUntil(now, 'Pacific/Tahiti')).toEqual(new Date('2026-12-24T10:00:00Z'));
    expect(expiringSoonUntil(new Date('2026-11-25T10:00:00Z'), 'Pacific/Tahiti')).toEqual(new Date('2026-12-25T10:00:00Z'));
  });

  it('a lot whose last valid local day is today + 29 is in, one a day later is out — in each zone', () => {
    for (const tz of ['Indian/Reunion', 'Pacific/Tahiti', 'Pacific/Noumea', 'America/Cayenne']) {
      const until = expiringSoonUntil(now, tz);
      // Credited so that the lot is valid through a given local date (expiry_days 0: valid through the credit date).
      const validThrough = (instant: Date) => lotExpiry(instant, tz, 0);
      const in29 = validThrough(new Date(until.getTime() - 12 * 3600_000));
      const in30 = validThrough(new Date(until.getTime() + 12 * 3600_000));
      expect(in29.getTime()).toBeLessThanOrEqual(until.getTime());
      expect(in30.getTime()).toBeGreaterThan(until.getTime());
    }
  });

  it('Saint-Pierre-et-Miquelon across the end of daylight saving: local midnights, not 30 × 24 h', () => {
    const before = new Date('2026-10-20T12:00:00Z'); // 09:00 local, UTC−2
    expect(expiringSoonUntil(before, 'America/Miquelon')).toEqual(new Date('2026-11-19T03:00:00Z')); // UTC−3 by then
  });
});

describe('nextStatus', () => {
  it('names the next status up and the lifetime points still to earn; none at the top', () => {
    expect(nextStatus('bronze', 238, STATUSES)).toEqual({ code: 'silver', points_to_go: 1762, min_lifetime_points: 2000 });
    expect(nextStatus('silver', 2000, STATUSES)).toEqual({ code: 'gold', points_to_go: 8000, min_lifetime_points: 10000 });
    expect(nextStatus('gold', 12000, STATUSES)).toEqual({ code: null, points_to_go: 0, min_lifetime_points: null });
  });

  it('a status kept after a revert lowered lifetime points: the next one is above the held one', () => {
    expect(nextStatus('silver', 1500, STATUSES)).toEqual({ code: 'gold', points_to_go: 8500, min_lifetime_points: 10000 });
  });
});

describe('localTime', () => {
  it('prints the wall clock of the territory', () => {
    expect(localTime(new Date('2026-11-25T08:00:00Z'), 'Indian/Reunion')).toBe('2026-11-25 12:00');
    expect(localTime(new Date('2026-11-25T08:00:00Z'), 'Pacific/Tahiti')).toBe('2026-11-24 22:00');
    expect(localTime(new Date('2026-11-25T12:00:00Z'), 'Pacific/Noumea')).toBe('2026-11-25 23:00');
  });
});

describe('parseHistoryBound', () => {
  it('takes a local date or an instant with its zone', () => {
    expect(parseHistoryBound('2026-11-01', '--from')).toEqual({ date: '2026-11-01' });
    expect(parseHistoryBound('2026-11-01T10:00:00+04:00', '--to')).toEqual({ instant: new Date('2026-11-01T06:00:00Z') });
  });

  it('refuses anything else, naming the option', () => {
    for (const bad of ['2026-02-30', 'yesterday', '2026-11-01T10:00', '01/11/2026']) {
      let err: { code?: string; message?: string; details?: Array<{ where: string }> } = {};
      try {
        parseHistoryBound(bad, '--to');
      } catch (e) {
        err = e as typeof err;
      }
      expect(err.code).toBe('VALIDATION_ERROR');
      expect(err.message).toContain('--to');
      expect(err.details?.[0].where).toBe('--to');
    }
  });
});

describe('compareBalances', () => {
  it('agrees when the transactions, the lots and the stored balance agree', () => {
    expect(compareBalances(120, 120, 120)).toEqual({ ok: true, differences: [] });
    expect(compareBalances(120, 120, null)).toEqual({ ok: true, differences: [] });
  });

  it('names each figure that differs', () => {
    expect(compareBalances(120, 119, 121)).toEqual({
      ok: false,
      differences: ['open lots hold 119 points but the transactions add up to 120', 'the stored balance is 121 but the transactions add up to 120'],
    });
  });
});

describe('describeTransaction', () => {
  it('says what a row is from its own columns', () => {
    expect(describeTransaction({ type: 'daily', streak_day: 8, jokers_used: 1 })).toBe('streak day 8, 1 joker(s) used');
    expect(describeTransaction({ type: 'earn', action_type: 'review_posted', reference_id: 'r-1', actor: 'service:market' })).toBe('review_posted r-1');
    expect(describeTransaction({ type: 'revert', reverses_id: '42', batch_id: 'batch_x', reason: 'twice', actor: 'ops' })).toBe('reverts 42, batch_x, "twice", by ops');
  });
});
