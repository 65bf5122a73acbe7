import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, onPostgres, type TestDb } from '../helpers/db.js';
import { assertBuilt, rayon } from '../helpers/rayon-cli.js';
import { at, makeUser } from '../helpers/fixtures.js';
import { DEFAULT } from '../helpers/scale-doc.js';
import { collectDaily, earn } from '../../src/core/earning/index.js';

/**
 * The built `rayon scale …` commands end to end (run `npm run build` first): stdout, stderr and
 * exit codes. The history is seeded through the core on this file's PostgreSQL database.
 */

const NOW = '2026-11-25T09:00:00Z';
let t: TestDb;
let dir: string;

/** The built CLI at a fixed business time, as the product manager, on this file's database. */
const cli = (...args: string[]) => rayon(['--now', NOW, '--actor', 'pm-alice', ...args], { DATABASE_URL: t.url! });

const file = (name: string, content: unknown) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return p;
};

const proposal = structuredClone(DEFAULT);
proposal.actions.review_posted.points = 15;
proposal.daily.base_points = 12;

// Each step spawns the CLI a few times: generous timeout for a loaded CI machine.
(onPostgres() ? describe : describe.skip)('rayon scale (built CLI)', { timeout: 180_000 }, () => {
  beforeAll(async () => {
    assertBuilt();
    t = await createTestDb(4);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rayon-scale-cli-'));
    const k = t.db.knex;
    await makeUser(k, 'cli-1');
    for (const d of ['2026-11-20', '2026-11-21', '2026-11-22']) await collectDaily(k, 'cli-1', at(`${d}T06:00:00Z`));
    await earn(k, 'cli-1', 'review_posted', 'r-1', at('2026-11-21T07:00:00Z'));
  });
  afterAll(async () => {
    await t?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('show prints the scale in force, as tables or JSON', async () => {
    const text = await cli('scale', 'show');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Scale version 1');
    expect(text.stdout).toMatch(/listing_created\s*│\s*20\s*│\s*5/);
    const json = await cli('--json', 'scale', 'show', '--at', '2026-11-25');
    expect(JSON.parse(json.stdout)).toMatchObject({ version: 1, document: { daily: { base_points: 10 } } });
    expect((await cli('scale', 'show', '--at', '25/11/2026')).code).toBe(2);
  });

  it('apply refuses a file that is not JSON, or breaks the schema, listing every error with its path (exit 2)', async () => {
    const notJson = await cli('scale', 'apply', file('broken.json', '{"daily": '), '--effective', '2026-12-01', '--reason', 'x', '--yes');
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/broken\.json is not valid JSON/);
    const bad = structuredClone(DEFAULT) as unknown as Record<string, any>;
    bad.actions.listing_created.points = -1;
    bad.actions.review_posted.bonus = 1;
    bad.daily.multipliers[3].from_day = 5;
    const r = await cli('scale', 'apply', file('bad.json', bad), '--effective', '2026-12-01', '--reason', 'x', '--yes');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('actions.listing_created.points: must be >= 1');
    expect(r.stderr).toContain('actions.review_posted.bonus: unknown key');
    expect(r.stdout).toBe('');
  });

  it('apply shows the diff, needs confirmation, then writes one version and one audit row', async () => {
    const f = file('proposal.json', proposal);
    const refused = await cli('scale', 'apply', f, '--effective', '2026-12-01', '--reason', 'winter boost');
    expect(refused.code).toBe(2);
    expect(refused.stdout).toContain('~ daily.base_points: 10 → 12');
    expect(refused.stdout).toContain('~ actions.review_posted.points: 10 → 15');
    expect(refused.stderr).toMatch(/--yes/);
    expect(await t.db.knex('scale_versions').count('* as n').first()).toMatchObject({ n: 1 });

    const ok = await cli('scale', 'apply', f, '--effective', '2026-12-01', '--reason', 'winter boost', '--yes');
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain('Scale version 2 written, effective from 2026-12-01');
    const audit = await t.db.knex('audit_log').where({ action: 'scale.apply' });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'pm-alice', target: 'scale:2' });

    const again = await cli('scale', 'apply', f, '--effective', '2026-12-01', '--reason', 'winter boost', '--yes');
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/Nothing to do/);
  });

  it('refuses an effective date that is not after today everywhere', async () => {
    const r = await cli('scale', 'apply', file('p2.json', proposal), '--effective', '2026-11-25', '--reason', 'x', '--yes');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/never rewrite history/);
  });

  it('set changes values of the version in force on that date, refusing bad values and unknown actions with their path', async () => {
    const bad = await cli('scale', 'set', 'actions.review_posted.points=-3', 'actions.lisitng_created.points=5', '--effective', '2026-12-05', '--reason', 'x', '--yes');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('actions.lisitng_created.points: unknown action lisitng_created');
    const neg = await cli('scale', 'set', 'actions.review_posted.points=-3', '--effective', '2026-12-05', '--reason', 'x', '--yes');
    expect(neg.code).toBe(2);
    expect(neg.stderr).toContain('actions.review_posted.points: must be >= 1');
    const ok = await cli('scale', 'set', 'actions.review_posted.daily_cap=8', '--effective', '2026-12-05', '--reason', 'more reviews', '--yes');
    expect(ok.code).toBe(0);
    // Based on version 2 (in force on 12-05): only the cap changes.
    expect(ok.stdout).toContain('against version 2');
    expect(ok.stdout).toContain('~ actions.review_posted.daily_cap: 5 → 8');
    expect(ok.stdout).not.toContain('base_points');
  });

  it('history and diff', async () => {
    const h = JSON.parse((await cli('--json', 'scale', 'history')).stdout);
    expect(h.map((v: { version: number; effective_from: string }) => [v.version, v.effective_from])).toEqual([[1, '2000-01-01'], [2, '2026-12-01'], [3, '2026-12-05']]);
    const d = await cli('scale', 'diff', '2', '3');
    expect(d.code).toBe(0);
    expect(d.stdout.trim()).toBe('~ actions.review_posted.daily_cap: 5 → 8');
    expect((await cli('scale', 'diff', '1', '99')).code).toBe(4);
  });

  it('simulate prints the comparison by territory and action', async () => {
    const r = await cli('scale', 'simulate', file('sim.json', proposal), '--from', '2026-11-20', '--to', '2026-11-22');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Simulation of');
    // daily: 10 + 10 + 12 actual vs 12 + 12 + 14 proposed; review: 10 vs 15.
    expect(r.stdout).toMatch(/RE\s*│\s*daily\s*│\s*3\s*│\s*32\s*│\s*0\.32 €\s*│\s*3\s*│\s*38\s*│\s*0\.38 €\s*│\s*\+6/);
    expect(r.stdout).toMatch(/RE\s*│\s*review_posted\s*│\s*1\s*│\s*10\s*│.*│\s*15\s*│/);
    expect(r.stdout).toContain('No user would change status.');
    const bad = await cli('scale', 'simulate', file('sim.json', proposal), '--from', '2026-11-22', '--to', '2026-11-20');
    expect(bad.code).toBe(2);
  });
});
