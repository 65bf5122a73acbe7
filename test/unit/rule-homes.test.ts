import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { versionInForce } from '../../src/core/scale/index.js';
import { duePoints, lotIsDue, shownBalance } from '../../src/core/ledger/index.js';
import { actsOnOwnAccount, auditable } from '../../src/core/audit/index.js';
import { availableNow, soldOut, unavailability, type OfferFacts } from '../../src/core/catalog/index.js';
import { idempotencyKeyProblem, parseIdempotencyKey } from '../../src/core/redemption/index.js';
import { normaliseTerritoryCode } from '../../src/core/users/index.js';
import { normaliseReference } from '../../src/core/earning/index.js';
import { referenceKey } from '../../src/core/fraud/index.js';
import { RayonError } from '../../src/core/errors.js';

/** The pure side of each rule that has one home (their SQL faces: test/integration/rule-twins.test.ts). */

describe('the scale version in force (versionInForce)', () => {
  const versions = [
    { version: 1, effective_from: '2000-01-01' },
    { version: 3, effective_from: '2026-02-01' },
    { version: 2, effective_from: '2026-02-01' },
    { version: 4, effective_from: '2026-03-01' },
  ];
  it.each([
    ['2025-12-31', 1],
    ['2026-01-31', 1],
    ['2026-02-01', 3], // from its first day; two on one date: the higher number
    ['2026-02-28', 3],
    ['2026-03-01', 4],
    ['2030-01-01', 4],
  ])('on %s: version %i', (day, version) => {
    expect(versionInForce(versions, day).version).toBe(version);
  });
  it('none before the first version', () => {
    expect(() => versionInForce(versions, '1999-12-31')).toThrow(/no scale version in force on 1999-12-31/);
  });
  it('does not depend on the order the versions come in', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(versions, { minLength: versions.length }), (shuffled) => {
        for (const day of ['2026-02-01', '2026-02-15', '2026-03-02']) expect(versionInForce(shuffled, day)).toEqual(versionInForce(versions, day));
      }),
    );
  });
});

describe('the shown balance (lotIsDue, duePoints, shownBalance)', () => {
  const now = new Date('2026-03-01T12:00:00Z');
  const at = (ms: number) => new Date(now.getTime() + ms);
  it('a lot is due from its expiry instant on, while it has points left', () => {
    expect(lotIsDue({ remaining: 5, expires_at: at(0) }, now)).toBe(true);
    expect(lotIsDue({ remaining: 5, expires_at: at(-1) }, now)).toBe(true);
    expect(lotIsDue({ remaining: 5, expires_at: at(1) }, now)).toBe(false);
    expect(lotIsDue({ remaining: 0, expires_at: at(-1) }, now)).toBe(false);
  });
  it('the shown balance leaves out exactly the due points', () => {
    const lots = [
      { remaining: 10, expires_at: at(-1000) },
      { remaining: 7, expires_at: at(0) },
      { remaining: 3, expires_at: at(1000) },
      { remaining: 0, expires_at: at(-5) },
    ];
    expect(duePoints(lots, now)).toBe(17);
    expect(shownBalance(20, duePoints(lots, now))).toBe(3);
    expect(duePoints([], now)).toBe(0);
  });
});

describe('the audit decision (auditable)', () => {
  it('every actor but the user acting on their own account writes an audit row', () => {
    expect(auditable('user:ana', 'ana')).toBe(false);
    expect(auditable('user:ana', 'bob')).toBe(true);
    expect(auditable('service:app', 'ana')).toBe(true);
    expect(auditable('admin:ops', 'ana')).toBe(true);
    expect(auditable('ops-jean', 'ana')).toBe(true);
    expect(auditable('USER:ana', 'ana')).toBe(true);
    expect(auditable(undefined, 'ana')).toBe(false);
  });
  it('is the negation of actsOnOwnAccount for any named actor', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string(), (actor, user) => {
        expect(auditable(actor, user)).toBe(!actsOnOwnAccount(actor, user));
        expect(auditable(`user:${user}`, user)).toBe(false);
      }),
    );
  });
});

describe('"available now" (unavailability, in the order redemption refuses)', () => {
  const base: OfferFacts = {
    active: true, all_territories: false, territories: ['MQ', 'RE'], available_from: '2026-01-10', available_to: '2026-01-20', stock: 5, units_taken: 4,
  };
  it('available inside its window, both ends included, in a listed territory, with a unit left', () => {
    for (const day of ['2026-01-10', '2026-01-15', '2026-01-20']) expect(availableNow(base, 'RE', day)).toBe(true);
    expect(availableNow({ ...base, all_territories: true, territories: [] }, 'GP', '2026-01-10')).toBe(true);
    expect(availableNow({ ...base, stock: null, units_taken: 1000 }, 'RE', '2026-01-10')).toBe(true);
  });
  it('each reason, the first one met', () => {
    expect(unavailability({ ...base, active: false, stock: 0 }, 'GP', '2027-01-01')).toBe('inactive');
    expect(unavailability({ ...base, stock: 0 }, 'GP', '2027-01-01')).toBe('not_offered');
    expect(unavailability({ ...base, stock: 0 }, 'RE', '2026-01-09')).toBe('outside_window');
    expect(unavailability({ ...base, stock: 0 }, 'RE', '2026-01-21')).toBe('outside_window');
    expect(unavailability({ ...base, units_taken: 5 }, 'RE', '2026-01-15')).toBe('sold_out');
    expect(soldOut({ stock: 0, units_taken: 0 })).toBe(true);
    expect(soldOut({ stock: null, units_taken: 0 })).toBe(false);
  });
});

describe('the Idempotency-Key format', () => {
  it('accepts none, or one key of 1-255 printable ASCII characters', () => {
    expect(idempotencyKeyProblem(undefined)).toBeNull();
    expect(parseIdempotencyKey('tap-1 ~!')).toBe('tap-1 ~!');
    expect(parseIdempotencyKey('k'.repeat(255))).toBe('k'.repeat(255));
  });
  it.each([
    ['', /1-255 printable ASCII/],
    ['k'.repeat(256), /1-255 printable ASCII/],
    ['café', /1-255 printable ASCII/],
    ['a\tb', /1-255 printable ASCII/],
    [['a', 'b'], /send one Idempotency-Key header/],
  ])('refuses %j, naming the header', (raw, message) => {
    let err: unknown;
    try {
      parseIdempotencyKey(raw);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RayonError);
    expect((err as RayonError).code).toBe('VALIDATION_ERROR');
    expect((err as RayonError).message).toMatch(message);
    expect((err as RayonError).details).toEqual([{ where: 'Idempotency-Key', message: expect.stringMatching(message) }]);
  });
});

describe('one normalisation each', () => {
  it('territory codes are keyed upper case', () => {
    expect(['re', 'Re', 'RE'].map(normaliseTerritoryCode)).toEqual(['RE', 'RE', 'RE']);
  });
  it('the fraud key is the key of the earning-normalised reference', () => {
    expect(referenceKey('Ca\u00adfe\u200b\u0301-42')).toBe(referenceKey(normaliseReference('Ca\u00adfe\u200b\u0301-42')));
    expect(referenceKey('Ca\u00adfe\u200b\u0301-42')).toBe('café-42');
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(referenceKey(s)).toBe(referenceKey(normaliseReference(s)));
      }),
    );
  });
});
