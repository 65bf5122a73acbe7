import { describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import { parseCorrectionsCsv } from '../../src/core/corrections/index.js';
import { failure } from '../helpers/failure.js';

const parse = (text: string) => parseCorrectionsCsv(Buffer.from(text, 'utf8'), '/tmp/some/dir/corr.csv');
const refused = (text: string) => failure(() => parse(text));
describe('parseCorrectionsCsv', () => {
  it('parses a valid file: signed amounts, optional ticket, the file hash and base name', () => {
    const text = 'user_id,amount,reason,ticket,ref\nu-re-0001,150,missed award,SUP-1,r1\nu-re-0002,-50,duplicate,,r2\nu-re-0003,+7,bonus,SUP-3,r3\n';
    const f = parse(text);
    expect(f.fileName).toBe('corr.csv');
    expect(f.sha256).toBe(crypto.createHash('sha256').update(text).digest('hex'));
    expect(f.lines).toEqual([
      { userId: 'u-re-0001', amount: 150, reason: 'missed award', ticket: 'SUP-1', ref: 'r1', where: 'line 2' },
      { userId: 'u-re-0002', amount: -50, reason: 'duplicate', ticket: null, ref: 'r2', where: 'line 3' },
      { userId: 'u-re-0003', amount: 7, reason: 'bonus', ticket: 'SUP-3', ref: 'r3', where: 'line 4' },
    ]);
  });

  it('the ticket column is optional', () => {
    expect(parse('user_id,amount,reason,ref\nu1,5,x,r1\n').lines[0].ticket).toBeNull();
  });

  it('reports every bad row with its line and column, nothing else', () => {
    const text = [
      'user_id,amount,reason,ticket,ref',
      'u1,10,ok,,r1', // line 2 fine
      'bad user!,1.5,ok,,r2', // line 3: user_id and amount
      'u3,0,,,r3', // line 4: amount zero, reason missing
      'u4,"1,5",ok,,', // line 5: amount, ref missing
      'u5,abc,ok,,r1', // line 6: amount, duplicate ref
    ].join('\n');
    const e = refused(text);
    expect(e.code).toBe('VALIDATION_ERROR');
    expect(e.message).toBe('8 problem(s) in corr.csv; nothing was written');
    expect(e.details!.map((d) => d.where)).toEqual([
      'line 3, column user_id',
      'line 3, column amount',
      'line 4, column amount',
      'line 4, column reason',
      'line 5, column amount',
      'line 5, column ref',
      'line 6, column amount',
      'line 6, column ref',
    ]);
    expect(e.details![3].message).toBe('is required');
    expect(e.details![2].message).toBe('must not be zero');
    expect(e.details![7].message).toBe('duplicate ref, already on line 2');
  });

  it('a duplicate ref names the first line that used it', () => {
    const e = refused('user_id,amount,reason,ref\nu1,1,x,r1\nu2,2,x,r2\nu3,3,x,r1\n');
    expect(e.details).toEqual([{ where: 'line 4, column ref', message: 'duplicate ref, already on line 2' }]);
  });

  it('an unknown column is refused', () => {
    const e = refused('user_id,amount,reason,ref,comment\nu1,1,x,r1,hello\n');
    expect(e.details).toEqual([expect.objectContaining({ where: 'line 1, column comment' })]);
  });

  it('a missing required column is refused', () => {
    const e = refused('user_id,amount,ref\nu1,1,r1\n');
    expect(e.details).toEqual([{ where: 'line 1', message: 'missing required column reason' }]);
  });

  it('an empty file and a header-only file are refused', () => {
    expect(refused('').message).toBe('the file is empty: a header row is required');
    expect(refused('user_id,amount,reason,ticket,ref\n').message).toBe('corr.csv has a header but no rows');
    expect(refused('user_id,amount,reason,ticket,ref\r\n\r\n').message).toBe('corr.csv has a header but no rows');
  });
});
