import { describe, expect, it } from 'vitest';
import { decodeUtf8Strict, detectDelimiter, physicalLines, readCsvTable } from '../../src/core/csv/index.js';
import { failure } from '../helpers/failure.js';

const COLS = { required: ['user_id', 'amount', 'reason', 'ref'], optional: ['ticket'] };
const buf = (s: string | Buffer) => (Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8'));

describe('readCsvTable', () => {
  it('reads UTF-8 with a BOM, `;` as delimiter and CRLF line ends', () => {
    const text = '\uFEFFuser_id;amount;reason;ref\r\nu1;10;geste commercial, désolé;r1\r\nu2;-5;doublon;r2\r\n';
    const { header, rows } = readCsvTable(buf(text), COLS);
    expect(header).toEqual(['user_id', 'amount', 'reason', 'ref']);
    expect(rows).toEqual([
      { line: 2, values: { user_id: 'u1', amount: '10', reason: 'geste commercial, désolé', ref: 'r1' } },
      { line: 3, values: { user_id: 'u2', amount: '-5', reason: 'doublon', ref: 'r2' } },
    ]);
  });

  it('gives each record its first physical line when quoted fields hold line breaks (LF and CRLF)', () => {
    const text = 'user_id,amount,reason,ref\r\nu1,10,"two\r\nlines",r1\r\nu2,5,"three\nlines\nhere",r2\r\nu3,1,plain,r3\r\n';
    const { rows } = readCsvTable(buf(text), COLS);
    expect(rows.map((r) => [r.line, r.values.user_id])).toEqual([
      [2, 'u1'],
      [4, 'u2'],
      [7, 'u3'],
    ]);
    expect(rows[0].values.reason).toBe('two\r\nlines');
  });

  it('names the right physical line of a bad row after a multi-line field', () => {
    const text = 'user_id,amount,reason,ref\nu1,10,"a\nb\nc",r1\nu2,5\n';
    const e = failure(() => readCsvTable(buf(text), COLS));
    expect(e.code).toBe('VALIDATION_ERROR');
    expect(e.details).toEqual([{ where: 'line 5', message: 'has 2 fields, the header has 4' }]);
  });

  it('skips blank lines (trailing or in the middle) but keeps counting them', () => {
    const text = 'user_id,amount,reason,ref\n\nu1,10,x,r1\n\n\n';
    const { rows } = readCsvTable(buf(text), COLS);
    expect(rows).toEqual([{ line: 3, values: { user_id: 'u1', amount: '10', reason: 'x', ref: 'r1' } }]);
    const crlf = readCsvTable(buf('user_id,amount,reason,ref\r\nu1,10,x,r1\r\n\r\n,,,\r\n'), COLS);
    expect(crlf.rows).toHaveLength(1);
  });

  it('refuses a file that is not UTF-8, naming the first bad line', () => {
    const latin1 = Buffer.concat([buf('user_id,amount,reason,ref\nu1,10,ok,r1\nu2,5,'), Buffer.from([0x63, 0x61, 0x66, 0xe9]), buf(',r2\n')]);
    const e = failure(() => readCsvTable(latin1, COLS));
    expect(e.code).toBe('VALIDATION_ERROR');
    expect(e.message).toMatch(/^line 3: the file is not UTF-8/);
    expect(e.details).toEqual([{ where: 'line 3', message: 'not valid UTF-8' }]);
  });

  it('reports every header problem at once: unknown, missing and repeated columns', () => {
    const e = failure(() => readCsvTable(buf('user_id,amount,amount,note\nu1,1,1,x\n'), COLS));
    expect(e.message).toBe('the header row is not valid');
    expect(e.details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ where: 'line 1, column note', message: expect.stringMatching(/^unknown column/) }),
        { where: 'line 1', message: 'missing required column reason' },
        { where: 'line 1', message: 'missing required column ref' },
        { where: 'line 1, column amount', message: 'column appears twice' },
      ]),
    );
    expect(e.details).toHaveLength(4);
  });

  it('refuses an empty file (also only whitespace or a BOM)', () => {
    for (const t of ['', '\n\n', '\uFEFF']) {
      const e = failure(() => readCsvTable(buf(t), COLS));
      expect(e.message).toBe('the file is empty: a header row is required');
    }
  });

  it('trims header names and values, and accepts columns in any order', () => {
    const { rows } = readCsvTable(buf(' ref , user_id ,amount,reason\n r9 , u9 , 3 , why \n'), COLS);
    expect(rows[0].values).toEqual({ ref: 'r9', user_id: 'u9', amount: '3', reason: 'why' });
  });
});

describe('helpers', () => {
  it('detectDelimiter looks at the header line only', () => {
    expect(detectDelimiter('a;b;c\n1,2,3,4,5\n')).toBe(';');
    expect(detectDelimiter('a,b;c,d\n')).toBe(',');
    expect(detectDelimiter('single')).toBe(',');
  });
  it('physicalLines counts LF, CRLF and CR, ignoring the record delimiter', () => {
    expect(physicalLines('a,b\r\n')).toBe(1);
    expect(physicalLines('a,"x\r\ny"\n')).toBe(2);
    expect(physicalLines('a,"x\ry\nz"')).toBe(3);
  });
  it('decodeUtf8Strict strips one BOM', () => {
    expect(decodeUtf8Strict(Buffer.from('\uFEFFé', 'utf8'))).toBe('é');
  });
});
