import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { afterAll, describe, expect, it } from 'vitest';
import { OutputFile, checkOutputFile, writeOutputFile } from '../../src/core/files/index.js';
import { exportCatalog } from '../../src/core/catalog/index.js';
import { failure } from '../helpers/failure.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rayon-out-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;
/** A fresh folder per test, so "no temporary file left" is a plain listing. */
const folder = () => {
  const d = path.join(root, `t${n++}`);
  fs.mkdirSync(d);
  return d;
};
const write = (file: string, text: string) => (fs.writeFileSync(file, text), file);
const writeText = (text: string) => async (out: NodeJS.WritableStream) => {
  out.write(text);
  out.end();
};

describe('output files: temporary file, then rename', () => {
  it('writes a new file and leaves nothing else in the folder', async () => {
    const d = folder();
    const target = path.join(d, 'out.csv');
    await writeOutputFile(target, { option: '--out' }, writeText('a,b\n1,2\n'));
    expect(fs.readFileSync(target, 'utf8')).toBe('a,b\n1,2\n');
    expect(fs.readdirSync(d)).toEqual(['out.csv']);
  });

  it('refuses an existing file without replace (naming the option and --force), replaces it with replace and keeps its mode', async () => {
    const d = folder();
    const target = write(path.join(d, 'out.csv'), 'old\n');
    fs.chmodSync(target, 0o600);
    const e = await failure(writeOutputFile(target, { option: '--reject-file' }, writeText('new\n')));
    expect([e.code, e.exitCode]).toEqual(['VALIDATION_ERROR', 2]);
    expect(e.message).toBe(`--reject-file ${target} already exists: add --force to replace it`);
    expect(fs.readFileSync(target, 'utf8')).toBe('old\n');
    await writeOutputFile(target, { option: '--reject-file', replace: true }, writeText('new\n'));
    expect(fs.readFileSync(target, 'utf8')).toBe('new\n');
    expect(fs.statSync(target).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(d)).toEqual(['out.csv']);
  });

  it('a writer that fails midway leaves the old file byte for byte, and no temporary file', async () => {
    const d = folder();
    const target = write(path.join(d, 'catalog.csv'), 'sku,name\nA,Old\n');
    const e = await writeOutputFile(target, { option: 'FILE', replace: true }, async (out) => {
      out.write('sku,name\n');
      out.write('A,half a row');
      throw new Error('connection lost');
    }).catch((err: Error) => err);
    expect((e as Error).message).toBe('connection lost');
    expect(fs.readFileSync(target, 'utf8')).toBe('sku,name\nA,Old\n');
    expect(fs.readdirSync(d)).toEqual(['catalog.csv']);
  });

  it('a streaming export that fails after its first batch leaves the old export intact', async () => {
    const d = folder();
    const target = write(path.join(d, 'export.csv'), 'yesterday\n');
    const row = {
      sku: 'A-1', name: 'One', description: '', cost: 10, category: 'shop', partner: 'P', all_territories: true, territories: [],
      available_from: '2026-01-01', available_to: '2026-12-31', stock: null, fulfilment: 'manual', active: true,
    };
    let calls = 0;
    const db = {
      raw: async () => {
        if (calls++ === 0) return { rows: Array.from({ length: 3 }, (_, i) => ({ ...row, sku: `A-${i}` })) };
        throw new Error('connection lost');
      },
    } as unknown as Knex;
    await expect(exportCatalog(db, target, { replace: true })).rejects.toThrow('connection lost');
    expect(calls).toBe(2);
    expect(fs.readFileSync(target, 'utf8')).toBe('yesterday\n');
    expect(fs.readdirSync(d)).toEqual(['export.csv']);
    // The same export with a database that answers replaces it whole.
    calls = 0;
    const ok = { raw: async () => (calls++ === 0 ? { rows: [row] } : { rows: [] }) } as unknown as Knex;
    await expect(exportCatalog(ok, target)).rejects.toThrow(/already exists: add --force/);
    expect(await exportCatalog(ok, target, { replace: true })).toEqual({ file: target, rows: 1 });
    expect(fs.readFileSync(target, 'utf8')).toMatch(/^sku,name,.*\nA-1,One,/);
  });

  it('a file that appears while the output is written is not replaced without replace', async () => {
    const d = folder();
    const target = path.join(d, 'out.csv');
    const out = new OutputFile(target, { option: '--out' });
    out.stream.write('mine\n');
    write(target, 'theirs\n');
    const e = await failure(out.commit());
    expect(e.message).toMatch(/--out .*out\.csv appeared while it was being written: add --force/);
    expect(fs.readFileSync(target, 'utf8')).toBe('theirs\n');
    expect(fs.readdirSync(d)).toEqual(['out.csv']);
  });

  it('refuses a folder, and a folder that does not exist', async () => {
    const d = folder();
    expect((await failure(() => checkOutputFile(d, { option: '--out' }))).message).toBe(`--out ${d} is a folder`);
    const missing = path.join(d, 'nope', 'x.csv');
    expect((await failure(() => new OutputFile(missing, { option: '--out' }))).message).toMatch(/the folder .*nope does not exist/);
  });
});

describe('output files: never one of the inputs', () => {
  const cases: Array<[string, (d: string, input: string) => string, RegExp]> = [
    ['the same path', (_d, input) => input, /\(the same path\)/],
    ['a relative spelling of an absolute path', (_d, input) => path.relative(process.cwd(), input), /\(the same path\)/],
    ['a symlink to the input', (d, input) => (fs.symlinkSync(input, path.join(d, 'link.csv')), path.join(d, 'link.csv')), /\(both lead to .*cat\.csv\)/],
    ['a hard link to the input', (d, input) => (fs.linkSync(input, path.join(d, 'hard.csv')), path.join(d, 'hard.csv')), /\(the same file through a hard link\)/],
  ];
  for (const [name, target, why] of cases) {
    it(`refuses ${name}, even with replace, and leaves the input byte for byte`, async () => {
      const d = folder();
      const input = write(path.join(d, 'cat.csv'), 'sku,name\nA,One\n');
      const before = fs.readFileSync(input);
      const out = target(d, input);
      const e = await failure(writeOutputFile(out, { option: '--reject-file', inputs: [input], replace: true }, writeText('line,error\n')));
      expect([e.code, e.exitCode]).toEqual(['VALIDATION_ERROR', 2]);
      expect(e.message).toContain(`--reject-file ${out} is the input file ${input}`);
      expect(e.message).toMatch(why);
      expect(fs.readFileSync(input).equals(before)).toBe(true);
      expect(fs.readdirSync(d).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });
  }

  it('an input given through a symlink is recognised too', async () => {
    const d = folder();
    const real = write(path.join(d, 'cat.csv'), 'x\n');
    fs.symlinkSync(real, path.join(d, 'link.csv'));
    const e = await failure(() => checkOutputFile(real, { option: '--reject-file', inputs: [path.join(d, 'link.csv')] }));
    expect(e.message).toMatch(/is the input file .*link\.csv \(both lead to/);
  });
});
