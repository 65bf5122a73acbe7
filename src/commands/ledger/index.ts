import type { Command } from 'commander';
import { action, examples } from '../context.js';
import { exitCodeOf } from '../../core/errors.js';

export function registerLedger(program: Command): void {
  const ledger = program.command('ledger').description('check the ledger');
  examples(
    ledger
      .command('verify')
      .option('--user <id>', 'only this user')
      .description('check every ledger invariant; exit 5 when one fails')
      .action(
        action(async (ctx, { opts }) => {
          const { verifyLedger } = await import('../../core/ledger/index.js');
          const r = await verifyLedger((await ctx.db()).knex, { userId: opts.user });
          if (ctx.config.json) ctx.out.data(r);
          else {
            ctx.out.table(['check', 'rule', 'result'], r.checks.map((c) => [c.name, c.description, c.problems ? ctx.out.c.red(`${c.problems} problem(s)`) : ctx.out.c.green('ok')]));
            // Which ledger rows have an audit row, and why the others need none (SPEC "Audit").
            ctx.out.table(
              ['type', 'rows', 'audited', 'own account', 'inline expiry', 'legacy expiry', 'missing'],
              r.audit.map((a) => [a.type, a.rows, a.audited, a.self, a.inline_expiry, a.legacy_expiry, a.missing ? ctx.out.c.red(String(a.missing)) : 0]),
            );
            for (const d of r.discrepancies.slice(0, 50)) ctx.out.text(`${d.check}${d.user_id ? ` user ${d.user_id}` : ''}: ${JSON.stringify(d.detail)}`);
          }
          if (!r.ok) {
            ctx.out.error(`${r.discrepancies.length} discrepancy(ies) found over ${r.users} user(s).`);
            return exitCodeOf('CHECK_FAILED');
          }
          ctx.out.success(`Ledger verified: ${r.checks.length} invariants hold over ${r.users} user(s).`);
        }),
      ),
    ['rayon ledger verify', 'rayon ledger verify --user u-re-0001 --json'],
  );
}
