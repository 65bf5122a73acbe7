import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { addDays, daysBetween, isIsoDate, localDate, lotExpiry, parseInstant, recreditExpiry, startOfLocalDay } from '../../src/core/time.js';

const iso = (d: Date) => d.toISOString();

describe('localDate', () => {
  it('is the calendar date in the territory time zone', () => {
    const t = new Date('2026-06-30T22:45:00Z');
    expect(localDate(t, 'Indian/Reunion')).toBe('2026-07-01'); // UTC+4
    expect(localDate(t, 'Pacific/Noumea')).toBe('2026-07-01'); // UTC+11
    expect(localDate(t, 'America/Miquelon')).toBe('2026-06-30'); // UTC-2 in summer
    expect(localDate(new Date('2026-11-24T20:00:00Z'), 'Indian/Reunion')).toBe('2026-11-25');
    expect(localDate(new Date('2026-11-24T19:59:59.999Z'), 'Indian/Reunion')).toBe('2026-11-24');
  });
});

describe('lotExpiry: valid through local date E + expiry_days, expires at the start of the next local day', () => {
  it('La Réunion (UTC+4, no DST)', () => {
    expect(iso(lotExpiry(new Date('2026-03-01T10:00:00Z'), 'Indian/Reunion', 365))).toBe('2027-03-01T20:00:00.000Z');
    // 21:00Z is already 01:00 on 2 March in Réunion: E is 2 March.
    expect(iso(lotExpiry(new Date('2026-03-01T21:00:00Z'), 'Indian/Reunion', 365))).toBe('2027-03-02T20:00:00.000Z');
    expect(iso(lotExpiry(new Date('2026-11-25T08:00:00Z'), 'Indian/Reunion', 0))).toBe('2026-11-25T20:00:00.000Z');
  });

  it('Nouvelle-Calédonie (UTC+11): the local date, not the UTC one, is E', () => {
    // 22:45Z on 30 June is 09:45 on 1 July in Nouméa.
    expect(iso(lotExpiry(new Date('2026-06-30T22:45:00Z'), 'Pacific/Noumea', 365))).toBe('2027-07-01T13:00:00.000Z');
    expect(iso(lotExpiry(new Date('2026-06-30T12:59:59Z'), 'Pacific/Noumea', 1))).toBe('2026-07-01T13:00:00.000Z');
  });

  it('Saint-Pierre-et-Miquelon across the DST changes (UTC-3 in winter, UTC-2 in summer)', () => {
    // DST starts on Sunday 8 March 2026 at 02:00 local.
    expect(iso(lotExpiry(new Date('2026-03-06T15:00:00Z'), 'America/Miquelon', 1))).toBe('2026-03-08T03:00:00.000Z'); // midnight, UTC-3
    expect(iso(lotExpiry(new Date('2026-03-07T15:00:00Z'), 'America/Miquelon', 1))).toBe('2026-03-09T02:00:00.000Z'); // midnight, UTC-2
    // DST ends on Sunday 1 November 2026.
    expect(iso(lotExpiry(new Date('2026-10-30T15:00:00Z'), 'America/Miquelon', 1))).toBe('2026-11-01T02:00:00.000Z');
    expect(iso(lotExpiry(new Date('2026-10-31T15:00:00Z'), 'America/Miquelon', 1))).toBe('2026-11-02T03:00:00.000Z');
    // A whole year: credited in winter, expires in winter: same offset.
    expect(iso(lotExpiry(new Date('2026-01-10T12:00:00Z'), 'America/Miquelon', 365))).toBe('2027-01-11T03:00:00.000Z');
  });

  it('property: the expiry is exactly the first instant of local day E + days + 1', () => {
    const zones = ['Indian/Reunion', 'Pacific/Noumea', 'America/Miquelon', 'America/Cayenne', 'Pacific/Tahiti'];
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2025-01-01T00:00:00Z'), max: new Date('2030-12-31T00:00:00Z'), noInvalidDate: true }),
        fc.constantFrom(...zones),
        fc.integer({ min: 0, max: 800 }),
        (credited, tz, days) => {
          const exp = lotExpiry(credited, tz, days);
          const e = localDate(credited, tz);
          expect(localDate(exp, tz)).toBe(addDays(e, days + 1));
          expect(localDate(new Date(exp.getTime() - 1), tz)).toBe(addDays(e, days));
          expect(exp.getTime()).toBeGreaterThan(credited.getTime());
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('recreditExpiry: the later of the original expiry and the end of the local day 30 days after', () => {
  const now = new Date('2026-11-25T10:00:00Z'); // 14:00 on 25 Nov in Réunion
  const floor = '2026-12-25T20:00:00.000Z'; // 26 Dec 00:00 +04 = end of 25 Dec
  it('an original expiry sooner than the floor gives the floor', () => {
    expect(iso(recreditExpiry(new Date('2026-12-01T20:00:00Z'), now, 'Indian/Reunion'))).toBe(floor);
    expect(iso(recreditExpiry(new Date('2026-01-01T00:00:00Z'), now, 'Indian/Reunion'))).toBe(floor); // already past
  });
  it('a later original expiry is kept', () => {
    expect(iso(recreditExpiry(new Date('2027-06-01T20:00:00Z'), now, 'Indian/Reunion'))).toBe('2027-06-01T20:00:00.000Z');
  });
  it('counts local days in the territory (Miquelon, across the DST end)', () => {
    // 15 Oct 2026 local → floor is the start of 15 Nov 2026 local (UTC-3 after 1 Nov).
    expect(iso(recreditExpiry(new Date('2026-10-20T00:00:00Z'), new Date('2026-10-15T12:00:00Z'), 'America/Miquelon'))).toBe('2026-11-15T03:00:00.000Z');
  });
});

describe('date helpers', () => {
  it('isIsoDate, addDays, daysBetween, startOfLocalDay, parseInstant', () => {
    expect(isIsoDate('2026-02-29')).toBe(false);
    expect(isIsoDate('2028-02-29')).toBe(true);
    expect(isIsoDate('2026-1-01')).toBe(false);
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(daysBetween('2026-03-07', '2026-03-09')).toBe(2);
    expect(iso(startOfLocalDay('2026-03-08', 'America/Miquelon'))).toBe('2026-03-08T03:00:00.000Z');
    expect(() => startOfLocalDay('2026-13-01', 'Indian/Reunion')).toThrow();
    expect(parseInstant('2026-11-25T08:00:00Z')?.toISOString()).toBe('2026-11-25T08:00:00.000Z');
    expect(parseInstant('2026-11-25T12:00:00+04:00')?.toISOString()).toBe('2026-11-25T08:00:00.000Z');
    expect(parseInstant('2026-11-25T08:00:00')).toBeNull(); // no zone: ambiguous
    expect(parseInstant('2026-11-25')).toBeNull();
    expect(parseInstant('yesterday')).toBeNull();
  });
});
