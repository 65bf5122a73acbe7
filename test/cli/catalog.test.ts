import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, onPostgres, type TestDb } from '../helpers/db.js';
import { assertBuilt, rayon } from '../helpers/rayon-cli.js';
import { makeUser } from '../helpers/fixtures.js';
import { give } from '../helpers/ledger-setup.js';
import { redeem } from '../../src/core/redemption/index.js';

/**
 * `rayon partner | catalog | redemption …` end to end on the built binary (run `npm run build`
 * first): what a product manager does with a French spreadsheet export, and what ops do next.
 */
const FIX = path.resolve('test/fixtures');
const NOW = '2026-11-25T09:00:00Z';
let t: TestDb;
let dir: string;

/** The built CLI at a fixed business time, as the product manager, on this file's database. */
const cli = (...args: string[]) => rayon(['--now', NOW, '--actor', 'pm-alice', ...args], { DATABASE_URL: t.url! });

(onPostgres() ? describe : describe.skip)('rayon partner / catalog / redemption (built CLI)', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    assertBuilt();
    t = await createTestDb(4);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rayon-cli-catalog-'));
  });
  afterAll(async () => {
    await t?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('imports partners, dry-runs then imports the French catalog, lists and exports it', async () => {
    const p = await cli('partner', 'import', path.join(FIX, 'partners.csv'), '--yes');
    expect(p.code).toBe(0);
    expect(p.stderr).toMatch(/10 new/);

    const noYes = await cli('catalog', 'import', path.join(FIX, 'catalog-fr-spreadsheet.csv'));
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toMatch(/--yes/);

    const dry = await cli('catalog', 'import', path.join(FIX, 'catalog-fr-spreadsheet.csv'), '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/TIMARCHE-PANIER\s+│ new/);
    expect(dry.stderr).toMatch(/16 new, 0 updated, 0 unchanged; new categories: leisure\. Nothing was written\./);

    const imp = await cli('--json', 'catalog', 'import', path.join(FIX, 'catalog-fr-spreadsheet.csv'), '--yes');
    expect(imp.code).toBe(0);
    expect(JSON.parse(imp.stdout)).toMatchObject({ rows: 16, new: 16, dryRun: false });

    const again = await cli('catalog', 'import', path.join(FIX, 'catalog-fr-spreadsheet.csv'), '--yes');
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/Nothing to change/);

    const list = await cli('--json', 'catalog', 'list', '--territory', 'RE', '--available');
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).items.map((i: { sku: string }) => i.sku)).toEqual(['BOUTIK-BA10', 'BOUTIK-BA20', 'CINE-PLACE', 'DON-CROIXROUGE', 'TEL-RECH10', 'TEL-RECH5']);
    const table = await cli('catalog', 'list', '--search', 'vol');
    expect(table.stdout).toMatch(/KARU-VOL15/);
    expect(table.stderr).toMatch(/1 reward\(s\)/);

    const out = path.join(dir, 'export.csv');
    const exp = await cli('catalog', 'export', out);
    expect(exp.code).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toMatch(/^KARU-VOL15,'-15 % sur un vol/m);
    const back = await cli('catalog', 'import', out, '--dry-run');
    expect(back.stderr).toMatch(/0 new, 0 updated, 16 unchanged/);
  });

  it('refuses a Windows-1252 file naming line 2 (exit 2), and reports bad rows with a reject file', async () => {
    const bad = await cli('catalog', 'import', path.join(FIX, 'catalog-windows-1252.csv'), '--yes');
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/line 2: the file is not UTF-8/);

    const src = fs.readFileSync(path.join(FIX, 'catalog-fr-spreadsheet.csv'), 'utf8')
      .replace('2026-01-01;2026-12-31;500', '01/01/2026;2026-12-31;500')
      .replace(';1900;', ';1,5;');
    const file = path.join(dir, 'broken.csv');
    fs.writeFileSync(file, src);
    const rejects = path.join(dir, 'rejects.csv');
    const r = await cli('catalog', 'import', file, '--yes', '--reject-file', rejects);
    expect(r.code).toBe(2);
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
    const list = await cli('redemption', 'list', '--status', 'pending');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/BOUTIK-BA10/);
    const ok = await cli('redemption', 'approve', String(a.redemption.id));
    expect(ok.code).toBe(0);
    const twice = await cli('redemption', 'approve', String(a.redemption.id));
    expect(twice.code).toBe(3);
    expect(twice.stderr).toMatch(/INVALID_STATE/);
    const noReason = await cli('redemption', 'reject', String(b.redemption.id));
    expect(noReason.code).toBe(2);
    const rej = await cli('redemption', 'reject', String(b.redemption.id), '--reason', 'partner closed');
    expect(rej.code).toBe(0);
    expect(rej.stderr).toMatch(/1000 point\(s\) back to u-re-0001 \(balance 4000\)/);
    const missing = await cli('redemption', 'approve', '999999');
    expect(missing.code).toBe(4);
    const json = await cli('--json', 'redemption', 'list');
    expect(JSON.parse(json.stdout).items.map((i: { status: string }) => i.status)).toEqual(['rejected', 'fulfilled']);
  });
});
