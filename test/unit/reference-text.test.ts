import { describe, expect, it } from 'vitest';
import { foldReference, normaliseReference, parseReferenceId, referenceIdProblem, stripInvisible } from '../../src/core/earning/index.js';
import { failure } from '../helpers/failure.js';

describe('reference_id normalisation (NFKC, zero-width and bidi characters removed)', () => {
  it('makes r1, r1 with a zero-width space and other invisible spellings one reference', () => {
    for (const spelling of ['r1', 'r1\u200b', '\u200br1', 'r\u200c1', 'r\u200d1\u2060', '\ufeffr1', 'r\u00ad1', '\u202er1\u202c', 'r1\u200e\u200f\u061c', '\u2066r1\u2069']) {
      expect(normaliseReference(spelling), JSON.stringify(spelling)).toBe('r1');
    }
  });

  it('composes decomposed forms and folds compatibility characters (NFKC)', () => {
    expect(normaliseReference('cafe\u0301')).toBe('café');
    expect(normaliseReference('caf\u00e9')).toBe('café');
    // An invisible character between a letter and its accent does not keep them apart.
    expect(normaliseReference('cafe\u200b\u0301')).toBe('café');
    expect(normaliseReference('ｒ１')).toBe('r1');
    expect(normaliseReference('ﬁle-2')).toBe('file-2');
  });

  it('keeps case for the idempotency key; foldReference folds it for looser comparisons', () => {
    expect(normaliseReference('Order-1')).toBe('Order-1');
    expect(foldReference('Order-1\u200b')).toBe('order-1');
    expect(foldReference('STRASSE')).toBe(foldReference('straße'));
    expect(stripInvisible('a\u200bb')).toBe('ab');
  });

  it('refuses, naming reference_id: empty once normalised, over 128 characters, control characters', () => {
    expect(referenceIdProblem('\u200b\u200d')).toMatch(/once zero-width and bidi characters are removed/);
    expect(referenceIdProblem('')).toMatch(/1-128/);
    expect(referenceIdProblem('x'.repeat(129))).toMatch(/1-128 characters once normalised.*129/);
    // NFKC may lengthen a reference: the normalised form is what is counted.
    expect(referenceIdProblem('\ufdfa'.repeat(10))).toMatch(/once normalised/);
    // Invisible characters beyond 128 do not count.
    expect(referenceIdProblem(`${'x'.repeat(128)}\u200b\u200b`)).toBeNull();
    expect(referenceIdProblem('a\u001b[2Jb')).toMatch(/control/);
    expect(referenceIdProblem('a\u009bb')).toMatch(/control/);
    expect(referenceIdProblem('a\nb')).toMatch(/control/);
    expect(referenceIdProblem(7)).toMatch(/string/);
    const err = failure(() => parseReferenceId('\u200b'));
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.message).toMatch(/^reference_id /);
    expect(err.details?.[0].where).toBe('reference_id');
    expect(parseReferenceId('cafe\u0301\u200b')).toBe('café');
  });
});
