import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { createTestDb, onPostgres, type TestDb } from '../helpers/db.js';
import { makeUser } from '../helpers/fixtures.js';
import { give } from '../helpers/ledger-setup.js';
import { redeem } from '../../src/core/redemption/index.js';

/**
 * `rayon partner | catalog | redemption …` end to end on the built binary (run `npm run build`
 * first): what a product manager does with a French spreadsheet export, and what ops do next.
 */
const BIN = path.resolve('bin/rayon.js');
const FIX = path.resolve('test/fixtures');
const NOW = '2026-11-25T09:00:00Z';
let t: TestDb;
let dir: string;

const rayon = (...args: string[]) =>
  execa('node', [BIN, '--now', NOW, '--actor', 'pm-alice', ...args], {
    reject: false,
    env: { DATABASE_URL: t.url, NO_COLOR: '1', RAYON_NOW: '' },
    stdin: 'ignore',
  });

(onPostgres() ? describe : describe.skip)('rayon partner / catalog / redemption (built CLI)', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    t = await createTestDb(4);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rayon-cli-catalog-'));
  });
  afterAll(async () => {
    await t?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('imports partners, dry-runs then imports the French catalog, lists and exports it', async () => {
    const p = await rayon('partner', 'import', path.join(FIX, 'partners.csv'), '--yes');
    expect(p.exitCode).toBe(0);
    expect(p.stderr).toMatch(/10 new/);

    const noYes = await rayon('catalog', 'import', path.join(FIX, 'catalog-fr-spreadsheet.csv'));
    expect(noYes.exitCode).toBe(2);
    expect(noYes.stderr).toMatch(/--yes/);

    const dry = await rayon('catalog', 'import', path.join(FIX, 'catalog-fr-spreadsheet.csv'), '--dry-run');
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toMatch(/TIMARCHE-PANIER\s+│ new/);
    expect(dry.stderr).toMatch(/16 new, 0 updated, 0 unchanged; new categories: leisure\. Nothing was written\./);

    const imp = await rayon('--json', 'catalog', 'import', path.join(FIX, 'catalog-fr-spreadsheet.csv'), '--yes');
    expect(imp.exitCode).toBe(0);
    expect(JSON.parse(imp.stdout)).toMatchObject({ rows: 16, new: 16, dryRun: false });

    const again = await rayon('catalog', 'import', path.join(FIX, 'catalog-fr-spreadsheet.csv'), '--yes');
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toMatch(/Nothing to change/);

    const list = await rayon('--json', 'catalog', 'list', '--territory', 'RE', '--available');
    expect(list.exitCode).toBe(0);
    expect(JSON.parse(list.stdout).items.map((i: { sku: string }) => i.sku)).toEqual(['BOUTIK-BA10', 'BOUTIK-BA20', 'CINE-PLACE', 'DON-CROIXROUGE', 'TEL-RECH10', 'TEL-RECH5']);
    const table = await rayon('catalog', 'list', '--search', 'vol');
    expect(table.stdout).toMatch(/KARU-VOL15/);
    expect(table.stderr).toMatch(/1 reward\(s\)/);

    const out = path.join(dir, 'export.csv');
    const exp = await rayon('catalog', 'export', out);
    expect(exp.exitCode).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toMatch(/^KARU-VOL15,'-15 % sur un vol/m);
    const back = await rayon('catalog', 'import', out, '--dry-run');
    expect(back.stderr).toMatch(/0 new, 0 updated, 16 unchanged/);
  });

  it('refuses a Windows-1252 file naming line 2 (exit 2), and reports bad rows with a reject file', async () => {
    const bad = await rayon('catalog', 'import', path.join(FIX, 'catalog-windows-1252.csv'), '--yes');
    expect(bad.exitCode).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/line 2: the file is not UTF-8/);

    const src = fs.readFileSync(path.join(FIX, 'catalog-fr-spreadsheet.csv'), 'utf8')
      .replace('2026-01-01;2026-12-31;500', '01/01/2026;2026-12-31;500')
      .replace(';1900;', ';1,5;');
    const file = path.join(dir, 'broken.csv');
    fs.writeFileSync(file, src);
    const rejects = path.join(dir, 'rejects.csv');
    const r = await rayon('catalog', 'import', file, '--yes', '--reject-file', rejects);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/line 2, column available_from: must be a date as YYYY-MM-DD/);
    expect(r.stderr).toMatch(/line 3, column cost: must be a whole number/);
    const rows = fs.readFileSync(rejects, 'utf8').trim().split(/\r?\n/);
    expect(rows[0]).toBe('line;sku;name;description;cost;category;partner;territories;available_from;available_to;stock;fulfilment;active;error');
    expect(rows).toHaveLength(3);
  });

  it('lists, approves and rejects redemptions', async () => {
    const k = t.db.knex;
    await makeUser(k, 'u-re-0001');
    await give(k, 'u-re-0001', 5000, '2026-06-01T08:00:00Z');
    const musee = await k('rewards').where({ sku: 'BOUTIK-BA10' }).first('id');
    await k('rewards').where({ id: musee.id }).update({ fulfilment: 'manual' });
    const a = await redeem(k, 'u-re-0001', musee.id, new Date(NOW));
    const b = await redeem(k, 'u-re-0001', musee.id, new Date(NOW));
    const list = await rayon('redemption', 'list', '--status', 'pending');
    expect(list.exitCode).toBe(0);
    expect(list.stdout).toMatch(/BOUTIK-BA10/);
    const ok = await rayon('redemption', 'approve', String(a.redemption.id));
    expect(ok.exitCode).toBe(0);
    const twice = await rayon('redemption', 'approve', String(a.redemption.id));
    expect(twice.exitCode).toBe(3);
    expect(twice.stderr).toMatch(/INVALID_STATE/);
    const noReason = await rayon('redemption', 'reject', String(b.redemption.id));
    expect(noReason.exitCode).toBe(2);
    const rej = await rayon('redemption', 'reject', String(b.redemption.id), '--reason', 'partner closed');
    expect(rej.exitCode).toBe(0);
    expect(rej.stderr).toMatch(/1000 point\(s\) back to u-re-0001 \(balance 4000\)/);
    const missing = await rayon('redemption', 'approve', '999999');
    expect(missing.exitCode).toBe(4);
    const json = await rayon('--json', 'redemption', 'list');
    expect(JSON.parse(json.stdout).items.map((i: { status: string }) => i.status)).toEqual(['rejected', 'fulfilled']);
  });
});
