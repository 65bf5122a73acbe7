import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createTestDb, describePostgresOnly, type TestDb } from '../helpers/db.js';
import { assertBuilt, rayon, ROOT } from '../helpers/rayon-cli.js';

/**
 * Files the CLI writes, end to end on the built binary: the reject file may never be the catalog
 * it reports on, and an existing output is replaced only with --force (--yes does not count).
 */
vi.setConfig({ testTimeout: 300_000 });

let t: TestDb;
let env: Record<string, string>;
let dir: string;
let catalog: string;
const sha = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const rewards = async () => Number((await t.db.knex('rewards').count({ n: '*' }).first())!.n);

beforeAll(async () => {
  assertBuilt();
  t = await createTestDb(4);
  env = t.url ? { DATABASE_URL: t.url } : {};
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rayon-cli-out-'));
  // The product manager's catalog, with one bad row (a decimal cost).
  catalog = path.join(dir, 'cat.csv');
  fs.writeFileSync(catalog, fs.readFileSync(path.join(ROOT, 'test/fixtures/catalog-fr-spreadsheet.csv'), 'utf8').replace(';1900;', ';1,5;'));
  fs.symlinkSync(catalog, path.join(dir, 'cat-link.csv'));
  const partners = await rayon(['partner', 'import', path.join(ROOT, 'test/fixtures/partners.csv'), '--yes'], env);
  if (partners.code !== 0) throw new Error(`partner import failed: ${partners.stderr}`);
});
afterAll(async () => {
  await t?.destroy();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describePostgresOnly('files written by the CLI', 'the CLI runs against the test PostgreSQL database', () => {
  it('catalog import --reject-file naming the input (same path, relative, symlink) is refused, even with --force; the input is byte for byte the same', async () => {
    const before = sha(catalog);
    const [same, relative, absolute, link] = await Promise.all([
      rayon(['catalog', 'import', catalog, '--reject-file', catalog, '--yes'], env),
      rayon(['catalog', 'import', catalog, '--reject-file', 'cat.csv', '--yes', '--force'], env, { cwd: dir }),
      rayon(['catalog', 'import', 'cat.csv', '--reject-file', catalog, '--yes', '--force'], env, { cwd: dir }),
      rayon(['catalog', 'import', catalog, '--reject-file', path.join(dir, 'cat-link.csv'), '--yes', '--force'], env),
    ]);
    for (const r of [same, relative, absolute, link]) {
      expect([r.code, r.stdout]).toEqual([2, '']);
      expect(r.stderr).toMatch(/^error: --reject-file \S+ is the input file \S+ \(.*\): writing it would destroy the input; choose another path\n$/);
    }
    expect(same.stderr).toContain(`--reject-file ${catalog} is the input file ${catalog} (the same path)`);
    expect(relative.stderr).toContain(`--reject-file cat.csv is the input file ${catalog} (the same path)`);
    expect(absolute.stderr).toContain(`--reject-file ${catalog} is the input file cat.csv (the same path)`);
    expect(link.stderr).toContain(`--reject-file ${path.join(dir, 'cat-link.csv')} is the input file ${catalog} (both lead to ${fs.realpathSync(catalog)})`);
    expect(sha(catalog)).toBe(before);
    expect(await rewards()).toBe(0);
  });

  it('an existing reject file is refused without --force (exit 2 naming --force; --yes does not count) and replaced with it', async () => {
    const rejects = path.join(dir, 'refused.csv');
    fs.writeFileSync(rejects, 'last week\n');
    const refused = await rayon(['catalog', 'import', catalog, '--reject-file', rejects, '--yes'], env);
    expect([refused.code, refused.stdout]).toEqual([2, '']);
    expect(refused.stderr).toBe(`error: --reject-file ${rejects} already exists: add --force to replace it (stdin is not a terminal)\n`);
    expect(fs.readFileSync(rejects, 'utf8')).toBe('last week\n');

    const forced = await rayon(['catalog', 'import', catalog, '--reject-file', rejects, '--yes', '--force'], env);
    expect(forced.code).toBe(2); // the bad row: nothing imported, the row goes to the reject file
    expect(forced.stderr).toMatch(/line 3, column cost: must be a whole number/);
    const rows = fs.readFileSync(rejects, 'utf8').trim().split(/\r?\n/);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^line;sku;name;.*;error$/);
    expect(rows[1]).toMatch(/^3;/);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(await rewards()).toBe(0);
  });

  it('catalog export over an existing file: refused without --force (and with --yes alone), replaced with it', async () => {
    const out = path.join(dir, 'export.csv');
    fs.writeFileSync(out, 'the only copy of something\n');
    const [plain, yes] = await Promise.all([rayon(['catalog', 'export', out], env), rayon(['catalog', 'export', out, '--yes'], env)]);
    for (const r of [plain, yes]) expect([r.code, r.stdout]).toEqual([2, '']);
    expect(plain.stderr).toBe(`error: FILE ${out} already exists: add --force to replace it (stdin is not a terminal)\n`);
    expect(yes.stderr).toMatch(/add --force to replace it/);
    expect(fs.readFileSync(out, 'utf8')).toBe('the only copy of something\n');

    const forced = await rayon(['catalog', 'export', out, '--force'], env);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toMatch(/Exported 0 reward\(s\)/);
    expect(fs.readFileSync(out, 'utf8')).toMatch(/^sku,name,description,cost,category,partner,territories,/);
    const fresh = await rayon(['catalog', 'export', path.join(dir, 'new.csv')], env);
    expect(fresh.code).toBe(0);
    expect(fs.existsSync(path.join(dir, 'new.csv'))).toBe(true);
  });
});
