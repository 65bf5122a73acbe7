import { describe, expect, it } from 'vitest';
import { checkJti, formatDuration, newJti, parseTtl } from '../../src/core/tokens/index.js';
import { maskVoucherCode } from '../../src/core/redemption/index.js';

describe('token lifetimes', () => {
  it('parses 90s, 15m, 1h, 7d and holds each role to its cap', () => {
    expect(parseTtl('90s', 'user')).toBe(90);
    expect(parseTtl(' 15m ', 'service')).toBe(900);
    expect(parseTtl('30d', 'user')).toBe(30 * 86_400);
    expect(parseTtl('24h', 'admin')).toBe(86_400);
    expect(() => parseTtl('31d', 'user')).toThrow('--ttl 31d is longer than the 30d cap of user tokens');
    expect(() => parseTtl('25h', 'service')).toThrow('--ttl 25h is longer than the 24h cap of service tokens');
    expect(() => parseTtl('2d', 'admin')).toThrow('24h cap of admin tokens');
    expect(() => parseTtl('0s', 'user')).toThrow('at least 1s');
    expect(() => parseTtl('forever', 'user')).toThrow('--ttl must look like');
    expect(() => parseTtl('1w', 'user')).toThrow('--ttl must look like');
  });

  it('formats durations for messages', () => {
    expect([formatDuration(30 * 86_400), formatDuration(86_400), formatDuration(900), formatDuration(90)]).toEqual(['30d', '24h', '15m', '90s']);
  });
});

describe('token ids', () => {
  it('are random and accepted back by checkJti; control characters and empty or long ids are not', () => {
    const a = newJti();
    expect(a).not.toBe(newJti());
    expect(checkJti(a)).toBe(a);
    for (const bad of ['', 'x'.repeat(256), 'a\nb']) expect(() => checkJti(bad)).toThrow('JTI must be');
  });
});

describe('maskVoucherCode', () => {
  it('keeps the last 4 characters, same length, ASCII *', () => {
    expect(maskVoucherCode('ABCD-EFGH-JKMN-WXYZ')).toBe('***************WXYZ');
    expect(maskVoucherCode('12345')).toBe('*2345');
    expect(maskVoucherCode('WXYZ')).toBe('****');
    expect(maskVoucherCode('')).toBe('');
  });
});
