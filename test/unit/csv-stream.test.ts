import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { completeUpTo, firstInvalidUtf8, openCsvStream } from '../../src/core/csv/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rayon-csv-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (content: string | Buffer) => {
  const f = path.join(dir, `f${n++}.csv`);
  fs.writeFileSync(f, content);
  return f;
};
async function readAll(f: string) {
  const s = await openCsvStream(f);
  const rows = [];
  for await (const r of s.rows) rows.push(r);
  return { header: s.header, delimiter: s.delimiter, rows, sha: s.sha256() };
}

describe('UTF-8 checks on bytes', () => {
  it('finds the first invalid byte, including truncated, overlong and surrogate sequences', () => {
    expect(firstInvalidUtf8(Buffer.from('abc é € 😀', 'utf8'))).toBe(-1);
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xe9, 0x62]))).toBe(1); // é in Windows-1252
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xe2, 0x82]))).toBe(1); // truncated €
    expect(firstInvalidUtf8(Buffer.from([0xc0, 0xaf]))).toBe(0); // overlong
    expect(firstInvalidUtf8(Buffer.from([0xed, 0xa0, 0x80]))).toBe(0); // surrogate
  });
  it('cuts a chunk before an incomplete trailing character only', () => {
    const euro = Buffer.from('a€', 'utf8'); // 61 e2 82 ac
    expect(completeUpTo(euro)).toBe(4);
    expect(completeUpTo(euro.subarray(0, 3))).toBe(1);
    expect(completeUpTo(euro.subarray(0, 2))).toBe(1);
    expect(completeUpTo(Buffer.from('abc'))).toBe(3);
  });
});

describe('streaming CSV reader', () => {
  it('takes a French spreadsheet export: BOM, ;, CRLF, quoted ; and line breaks, padded blank rows', async () => {
    const f = file('\uFEFFsku;name;description\r\nA;Un;"x ; y"\r\nB;Deux;"line one\r\nline two"\r\nC;Trois;""\r\n;;\r\n\r\n');
    const r = await readAll(f);
    expect(r.delimiter).toBe(';');
    expect(r.header).toEqual(['sku', 'name', 'description']);
    expect(r.rows.map((x) => [x.line, x.fields[0], x.fields[2]])).toEqual([
      [2, 'A', 'x ; y'],
      [3, 'B', 'line one\r\nline two'],
      [5, 'C', ''],
    ]);
    expect(r.sha).toMatch(/^[0-9a-f]{64}$/);
  });
  it('detects , and keeps counting lines across chunks', async () => {
    const big = ['sku,name', ...Array.from({ length: 30_000 }, (_, i) => `S${i},"name, ${i} é"`)].join('\n');
    const r = await readAll(file(big));
    expect(r.delimiter).toBe(',');
    expect(r.rows).toHaveLength(30_000);
    expect(r.rows[29_999]).toEqual({ line: 30_001, fields: ['S29999', 'name, 29999 é'] });
  });
  it('refuses a non-UTF-8 byte naming its line, even deep in a large file', async () => {
    const lines = ['sku,name', ...Array.from({ length: 50_000 }, (_, i) => `S${i},ok`)];
    const buf = Buffer.concat([Buffer.from(lines.join('\n') + '\n'), Buffer.from([0x42, 0x2c, 0xe9, 0x74, 0xe9, 0x0a])]);
    await expect(readAll(file(buf))).rejects.toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringMatching(/^line 50002: the file is not UTF-8 \(byte 0xE9\)/) });
  });
  it('refuses an empty file and a file of blank lines', async () => {
    await expect(readAll(file(''))).rejects.toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringMatching(/empty/) });
    await expect(readAll(file('\r\n\r\n'))).rejects.toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringMatching(/empty/) });
  });
  it('names the line of an unclosed quote', async () => {
    await expect(readAll(file('sku,name\nA,ok\nB,"never closed\nC,x\n'))).rejects.toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringMatching(/^line 3: the file is not valid CSV: a quoted field is never closed/) });
  });
});
