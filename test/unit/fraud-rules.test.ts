import { describe, expect, it } from 'vitest';
import { RULES, RULE_NAMES, defaultParams, parseAssignment, parseRuleName, scanWindow, scoreAbove, withAssignments, quote, RULE_DEFS } from '../../src/core/fraud/index.js';

const NOW = new Date('2026-03-10T12:00:00Z');
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return [(e as { code?: string }).code, (e as Error).message];
  }
  return ['OK', ''];
};

describe('scoreAbove', () => {
  it('is 50 at the threshold, 75 at twice, 100 from three times, and grows in between', () => {
    expect([scoreAbove(20, 20), scoreAbove(21, 20), scoreAbove(40, 20), scoreAbove(60, 20), scoreAbove(500, 20)]).toEqual([50, 51, 75, 100, 100]);
    expect(scoreAbove(1, 0)).toBe(75); // a threshold of 0 counts as 1
    for (let n = 20; n < 80; n++) expect(scoreAbove(n + 1, 20)).toBeGreaterThanOrEqual(scoreAbove(n, 20));
  });
});

describe('scanWindow (--since)', () => {
  it('takes hours, days, an ISO date (00:00 UTC) or an ISO instant, up to now', () => {
    expect(scanWindow('24h', NOW)).toEqual({ since: new Date('2026-03-09T12:00:00Z'), until: NOW });
    expect(scanWindow('7d', NOW).since).toEqual(new Date('2026-03-03T12:00:00Z'));
    expect(scanWindow('2026-03-01', NOW).since).toEqual(new Date('2026-03-01T00:00:00Z'));
    expect(scanWindow('2026-03-09T08:00:00+04:00', NOW).since).toEqual(new Date('2026-03-09T04:00:00Z'));
  });

  it('refuses anything else, naming the accepted forms', () => {
    for (const bad of ['yesterday', '24', '0h', '3w', '-1d', '2026-02-30', '2026-03-09T08:00', '2026-03-11', '']) {
      const [code, message] = codeOf(() => scanWindow(bad, NOW));
      expect([bad, code]).toEqual([bad, 'VALIDATION_ERROR']);
      expect(message).toMatch(/--since .*expected .*24h, 7d.*ISO date.*ISO instant/);
    }
  });
});

describe('rule parameters', () => {
  it('parses RULE.PARAM=V for every known parameter', () => {
    for (const rule of RULE_NAMES) {
      for (const p of RULES[rule].params) expect(parseAssignment(`${rule}.${p.name}=${p.min + 7}`)).toEqual({ rule, param: p.name, value: p.min + 7 });
    }
  });

  it('refuses an unknown rule or parameter, a value that is not a whole number, negative or below the minimum, naming it', () => {
    expect(codeOf(() => parseAssignment('velocity.max=3'))).toEqual(['VALIDATION_ERROR', expect.stringMatching(/unknown rule "velocity"/)]);
    expect(codeOf(() => parseAssignment('earn_velocity.max=3'))).toEqual(['VALIDATION_ERROR', expect.stringMatching(/unknown parameter "earn_velocity.max" \(earn_velocity has: max_per_hour\)/)]);
    for (const v of ['1.5', '-1', 'ten', '', '1e3']) {
      expect(codeOf(() => parseAssignment(`earn_velocity.max_per_hour=${v}`))).toEqual(['VALIDATION_ERROR', expect.stringMatching(/earn_velocity\.max_per_hour must be/)]);
    }
    expect(codeOf(() => parseAssignment('shared_reference.min_users=1'))).toEqual(['VALIDATION_ERROR', expect.stringMatching(/between 2 and/)]);
    expect(codeOf(() => parseAssignment('earn_velocity.max_per_hour=2147483648'))).toEqual(['VALIDATION_ERROR', expect.stringMatching(/between 0 and 2147483647/)]);
    expect(codeOf(() => parseAssignment('earn_velocity'))).toEqual(['VALIDATION_ERROR', expect.stringMatching(/expected RULE.PARAM=VALUE/)]);
    expect(codeOf(() => parseRuleName('nope'))).toEqual(['VALIDATION_ERROR', expect.stringMatching(/--rule: unknown rule "nope"/)]);
  });

  it('applies assignments to a copy, refusing one given twice', () => {
    const base = defaultParams();
    const next = withAssignments(base, [parseAssignment('redeem_burst.max_points=9000')]);
    expect(next.redeem_burst).toEqual({ max_count: 5, max_points: 9000 });
    expect(base.redeem_burst.max_points).toBe(5000);
    expect(codeOf(() => withAssignments(base, [parseAssignment('redeem_burst.max_points=1'), parseAssignment('redeem_burst.max_points=2')]))[1]).toMatch(/given twice/);
  });

  it('every rule has its statement and binds each of its parameters', () => {
    for (const rule of RULE_NAMES) {
      expect(RULE_DEFS[rule].name).toBe(rule);
      for (const p of RULES[rule].params) expect(RULE_DEFS[rule].sql).toContain(`:${p.name}`);
      expect(RULE_DEFS[rule].sql).toMatch(/:since/);
    }
  });
});

describe('quote', () => {
  it('shows invisible and control characters as escapes, so evidence cannot hide or reorder text on a terminal', () => {
    expect(quote('a\u202Eb\u200Bc\nd\u0085e\u{E0041}')).toBe('"a\\u202eb\\u200bc\\nd\\u0085e\\u{e0041}"');
    expect(quote('café-42')).toBe('"café-42"');
  });
});
