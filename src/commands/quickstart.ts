import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { action, examples, parseIntStrict, type Ctx } from './context.js';

/** Demo size of a first look: big enough for every KPI and fraud rule, small enough for well under a minute. */
const FIRST_LOOK = { users: 2000, days: 60, seed: 1 };

/**
 * `rayon quickstart`: a database (embedded unless DATABASE_URL is set), its migrations, a demo
 * history, and the KPI dashboard on it — the programme as a product manager sees it — then the
 * next commands to try. A second run finds the data and shows the dashboard again.
 */
export function registerQuickstart(program: Command): void {
  examples(
    program
      .command('quickstart')
      .description('set up a database (embedded unless DATABASE_URL is set), apply migrations, write a demo history, and open on the KPI dashboard')
      .option('--no-demo', 'do not write the demo history (an empty programme)')
      .option('--users <n>', 'demo users', String(FIRST_LOOK.users))
      .option('--days <n>', 'demo days of history, ending yesterday', String(FIRST_LOOK.days))
      .action(action(async (ctx, { opts }) => quickstart(ctx, opts as { demo?: boolean; users: string; days: string }))),
    ['rayon quickstart', 'rayon quickstart --users 500 --days 30', 'DATABASE_URL=postgres://postgres@127.0.0.1:5432/test rayon quickstart'],
  );
}

async function quickstart(ctx: Ctx, opts: { demo?: boolean; users: string; days: string }): Promise<void> {
  const users = parseIntStrict(String(opts.users), '--users', { min: 1, max: 1_000_000 });
  const days = parseIntStrict(String(opts.days), '--days', { min: 1, max: 730 });
  const { migrateLatest } = await import('../db/migrate.js');
  const { countUsers } = await import('../core/users/index.js');
  const demoCore = await import('../core/demo/index.js');
  const kpi = await import('../core/kpi/index.js');
  const out = ctx.out;
  const started = Date.now();
  const db = await ctx.db();
  out.info(out.c.bold('Rayon points — quickstart'));
  out.info(`Database: ${db.label}${db.kind === 'embedded' ? ' (embedded PostgreSQL; set DATABASE_URL to use a server)' : ''}`);
  const applied = await migrateLatest(db);
  out.success(applied.length ? `Applied ${applied.length} migration(s).` : 'Schema already up to date.');

  const held = await countUsers(db.knex);
  let demo: { showcase_user: string | null; written: boolean } = { showcase_user: null, written: false };
  if (held === 0 && opts.demo !== false) {
    out.info(`Writing a demo history: ${users} users over the ${days} days ending yesterday (seed ${FIRST_LOOK.seed}) …`);
    const { progressBar } = await import('./demo/index.js');
    const bar = await progressBar(ctx);
    const r = await demoCore
      .loadDemo(db.knex, { users, days, seed: FIRST_LOOK.seed, now: ctx.now(), actor: ctx.actor, onProgress: bar ? (d, t) => bar.update(d, t) : undefined })
      .finally(() => bar?.stop());
    out.success(`Demo written: ${r.users} users, ${r.rows.transactions} ledger rows, ${r.redemptions.fulfilled + r.redemptions.pending + r.redemptions.rejected} redemptions in ${(r.elapsed_ms / 1000).toFixed(1)} s.`);
    demo = { showcase_user: r.showcase_user, written: true };
  } else {
    const last = await demoCore.lastDemo(db.knex);
    out.info(
      held === 0
        ? 'No demo written (--no-demo): the dashboard below is an empty programme.'
        : `The database already holds ${held} user(s): nothing written${last ? ` (demo of seed ${last.seed}, ${last.users} users × ${last.days} days)` : ''}. Here is its dashboard.`,
    );
    demo = { showcase_user: last?.showcase_user ?? null, written: false };
  }

  const report = await kpi.kpiReport(db.knex, { now: ctx.now() });
  const html = path.join(ctx.config.dataDir, 'kpi-report.html'); // beside the embedded database, whatever RAYON_DATA_DIR says
  fs.mkdirSync(ctx.config.dataDir, { recursive: true }); // absent when DATABASE_URL names a server
  const { writeOutputFile } = await import('../core/files/index.js');
  const text = await kpi.renderKpiHtml(report);
  const { dest } = await writeOutputFile(html, { option: 'the quickstart report', replace: true }, (s) => new Promise<void>((resolve, reject) => s.write(text, (e) => (e ? reject(e) : resolve()))));
  if (ctx.config.json) {
    out.data({ database: db.label, applied, demo_written: demo.written, showcase_user: demo.showcase_user, html_report: dest, report });
    return;
  }
  out.text();
  const { renderTable } = await import('./kpi/render-table.js');
  renderTable(out, report);
  out.info(`The same dashboard with its charts, one file to open in a browser or print: ${dest}`);

  const who = demo.showcase_user;
  const steps: Array<[string, string]> = [
    ['rayon fraud scan --since 60d', 'the fraud rules over the demo: it planted a few patterns for them to find'],
    ...(who ? ([[`rayon user show ${who}`, 'one user at a glance: a joker-bridged streak, an expiry, a refunded redemption'], [`rayon user explain ${who}`, 'the balance rebuilt from the ledger, lot by lot']] as Array<[string, string]>) : []),
    ['rayon kpi report --format html --out dashboard.html', 'the dashboard as one self-contained page (also --format csv --excel, --json)'],
    ['rayon kpi report --territory RE --json', 'one territory, every figure with its definition, target and manifest'],
    ['rayon ledger verify', 'check every invariant of the ledger (exit 5 on a discrepancy)'],
    ['rayon audit list --since 1h', 'who changed what'],
    ['rayon scale show', 'the point scale (barème) in force'],
    ['rayon --help', 'every command; each one has --help with examples'],
  ];
  out.text();
  out.text(out.c.bold('Try next:'));
  for (const [cmd, why] of steps) out.text(`  ${out.c.cyan(`npx ${cmd}`)}\n      ${why}`);
  out.info(`Quickstart done in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
}
