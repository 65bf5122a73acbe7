import type { Command } from 'commander';
import { action, examples, type Ctx } from '../context.js';
import { exitCodeOf } from '../../core/errors.js';
import type { BacktestResult, ScanResult } from '../../core/fraud/index.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerFraudScan(fraud: Command): void {
  examples(
    fraud
      .command('scan')
      .option('--since <when>', 'start of the window: 24h, 7d, an ISO date or an ISO instant', '24h')
      .option('--rule <rule>', 'only this rule')
      .option('--set <RULE.PARAM=V>', 'back-test: run with this parameter changed, beside today\'s, writing nothing (repeatable)', collect)
      .option('--fail-on-findings', 'exit 5 when a rule finds something (for schedulers)')
      .description('run the fraud rules over the window and open or refresh review cases; with --set, a back-test that writes nothing')
      .action(
        action(async (ctx, { opts }) => {
          const { backtestFraud, parseAssignment, parseRuleName, scanFraud, scanWindow } = await import('../../core/fraud/index.js');
          const now = ctx.now();
          const window = scanWindow(opts.since, now);
          const rules = opts.rule ? [parseRuleName(opts.rule)] : undefined;
          const sets: string[] = opts.set ?? [];
          const knex = (await ctx.db()).knex;
          if (sets.length) {
            const assignments = sets.map((s) => parseAssignment(s));
            if (opts.failOnFindings) ctx.out.warn('--fail-on-findings does not apply to a back-test: it writes nothing and exits 0.');
            renderBacktest(ctx, await backtestFraud(knex, { window, rules, assignments }));
            return 0;
          }
          const r = await scanFraud(knex, { window, rules, actor: ctx.actor, now });
          renderScan(ctx, r);
          return r.findings.length && opts.failOnFindings ? exitCodeOf('CHECK_FAILED') : 0;
        }),
      ),
    [
      'rayon fraud scan',
      'rayon fraud scan --since 7d --rule shared_reference --json',
      'rayon fraud scan --since 30d --set earn_velocity.max_per_hour=15',
      'rayon fraud scan --fail-on-findings   # in a scheduler',
    ],
  );
}

function renderScan(ctx: Ctx, r: ScanResult): void {
  const window = { since: r.window.since.toISOString(), until: r.window.until.toISOString() };
  if (ctx.config.json) {
    ctx.out.data({
      window, rules: r.rules, cases: r.cases,
      findings: r.findings.map((f) => ({
        case_id: f.case_id, user_id: f.user_id, rule: f.rule, score: f.score, evidence: f.evidence, figures: f.figures,
        latest_event_at: f.latest_at.toISOString(), case_status: f.status, case_change: f.change,
      })),
    });
    return;
  }
  if (r.findings.length) {
    ctx.out.table(['case', 'user', 'rule', 'score', 'evidence', 'case status'], r.findings.map((f) => [f.case_id, f.user_id, f.rule, f.score, f.evidence, `${f.status} (${f.change})`]));
  }
  const c = r.cases;
  ctx.out.info(
    `${r.findings.length} finding(s) from ${window.since} to ${window.until} (${r.rules.length} rule(s))` +
      (r.findings.length ? `: ${c.opened} case(s) opened, ${c.refreshed} refreshed, ${c.reopened} reopened, ${c['kept dismissed']} kept dismissed, ${c['kept actioned']} kept actioned.` : '.'),
  );
}

const LIST_MAX = 50;
const list = (users: string[]) => (users.length === 0 ? '—' : users.slice(0, LIST_MAX).join(', ') + (users.length > LIST_MAX ? `, … and ${users.length - LIST_MAX} more (--json lists all)` : ''));

function renderBacktest(ctx: Ctx, r: BacktestResult): void {
  if (ctx.config.json) {
    ctx.out.data({ backtest: true, window: { since: r.window.since.toISOString(), until: r.window.until.toISOString() }, rules: r.rules });
    return;
  }
  ctx.out.table(
    ['rule', 'change', 'flagged now', 'with the change', 'added', 'dropped'],
    r.rules.map((b) => [
      b.rule, b.changes.map((c) => `${c.param} ${c.now} → ${c.proposed}`).join(', ') || '—',
      b.flagged_now.length, b.flagged_proposed.length, b.added.length, b.dropped.length,
    ]),
  );
  for (const b of r.rules.filter((x) => x.changes.length)) {
    ctx.out.text(`${b.rule} (${b.changes.map((c) => `${c.param} ${c.now} → ${c.proposed}`).join(', ')})`);
    ctx.out.text(`  flagged now (${b.flagged_now.length}): ${list(b.flagged_now)}`);
    ctx.out.text(`  flagged with the change (${b.flagged_proposed.length}): ${list(b.flagged_proposed)}`);
    ctx.out.text(`  added (${b.added.length}): ${list(b.added)}`);
    ctx.out.text(`  dropped (${b.dropped.length}): ${list(b.dropped)}`);
  }
  ctx.out.info(`Back-test from ${r.window.since.toISOString()} to ${r.window.until.toISOString()}: nothing was written.`);
}
