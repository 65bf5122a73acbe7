import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDb, describePostgresOnly, type TestDb } from '../helpers/db.js';
import { buildKpiFixture, FIXTURE_AS_OF, FIXTURE_NOW, FIXTURE_PERIOD } from '../helpers/kpi-fixture.js';
import { assertBuilt, rayon } from '../helpers/rayon-cli.js';

/**
 * The HTML report as a reader sees it: rendered by headless Chromium (Debian's package, driven by
 * playwright-core) with JavaScript off and every request other than the file itself refused and
 * recorded. Without /usr/bin/chromium the suite is listed as skipped with the reason, except with
 * CI=true, where its absence fails.
 */
vi.setConfig({ testTimeout: 300_000 });

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'];
const NAME = 'kpi report HTML in headless Chromium';

function suite(): void {
  let t: TestDb;
  let tmp: string;
  let html: string;
  let report: {
    series: { days: Array<{ registered: number }>; streaks: unknown[] };
    forecast: unknown[];
    figures: Array<{ id: string }>;
  };

  beforeAll(async () => {
    assertBuilt();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rayon-kpi-html-'));
    t = await createTestDb();
    await buildKpiFixture(t.db.knex);
    const env = { DATABASE_URL: t.url as string, RAYON_NOW: FIXTURE_NOW.toISOString() };
    const args = ['kpi', 'report', '--from', FIXTURE_PERIOD.from, '--to', FIXTURE_PERIOD.to, '--as-of', FIXTURE_AS_OF.toISOString()];
    html = path.join(tmp, 'kpi.html');
    const r = await rayon([...args, '--format', 'html', '--out', html], env);
    expect(r.code).toBe(0);
    report = JSON.parse((await rayon([...args, '--json'], env)).stdout);
  });
  afterAll(async () => {
    await t?.destroy();
  });

  it('renders with no console error and no network request; every chart is drawn with one mark per data point', async () => {
    expect(fs.existsSync(CHROMIUM), `${CHROMIUM} is required (CI=true): apt-get install -y chromium`).toBe(true);
    const { chromium } = await import('playwright-core');
    const profile = fs.mkdtempSync(path.join(tmp, 'profile-'));
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, javaScriptEnabled: false, viewport: { width: 1100, height: 900 } });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      const fileUrl = pathToFileURL(html).href;
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('request', (req) => {
        if (req.url() !== fileUrl) requests.push(req.url());
      });
      await context.route('**/*', (route) => (route.request().url() === fileUrl ? route.continue() : route.abort()));
      await page.goto(fileUrl, { waitUntil: 'load' });

      const expected: Record<string, number> = {
        collection: report.series.days.filter((d) => d.registered > 0).length,
        flows: report.series.days.length * 3,
        streaks: report.series.streaks.length,
        liability: 1 + report.forecast.length,
      };
      expect(expected).toEqual({ collection: 7, flows: 21, streaks: 2, liability: 4 });
      for (const [id, marks] of Object.entries(expected)) {
        const svg = page.locator(`svg#chart-${id}`);
        expect(await svg.count(), id).toBe(1);
        const box = await svg.boundingBox();
        expect(box && box.width > 100 && box.height > 50, `${id} has a size`).toBe(true);
        expect(await svg.locator('.mark').count(), `${id} marks`).toBe(marks);
        expect(await svg.getAttribute('data-marks')).toBe(String(marks));
        expect(await svg.locator('.axis.x text').count(), `${id} x labels`).toBeGreaterThan(0);
        expect(await svg.locator('.axis.y text').count(), `${id} y labels`).toBeGreaterThan(0);
        expect(await svg.locator('.legend text').count(), `${id} legend`).toBeGreaterThan(0);
      }
      // Each KPI with its definition beside it, and the manifest at the foot.
      expect(await page.locator('table.dashboard tbody tr').count()).toBe(report.figures.length);
      expect(await page.locator('#kpi-daily_collection_rate td.def').innerText()).toContain("mean over the period's days");
      expect(await page.locator('footer table.manifest').innerText()).toContain('24 rows summing to 197 points');

      const shot = path.join(tmp, 'kpi-report.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(fs.statSync(shot).size).toBeGreaterThan(10_000);
      process.stderr.write(`kpi report screenshot: ${shot}\n`);

      await page.emulateMedia({ media: 'print' });
      const pdf = await page.pdf({ format: 'A4', preferCSSPageSize: true });
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');

      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await context.close();
    }
  });
}

if (!fs.existsSync(CHROMIUM) && process.env.CI !== 'true') {
  describe.skip(`${NAME} [SKIPPED: ${CHROMIUM} not found; install it with apt-get install -y chromium]`, suite);
} else {
  describePostgresOnly(NAME, 'the CLI and the test share the database: needs PostgreSQL', suite);
}
