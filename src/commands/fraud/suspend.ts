import type { Command } from 'commander';
import { action, examples, parseIntStrict } from '../context.js';

export function registerFraudSuspend(fraud: Command): void {
  examples(
    fraud
      .command('suspend')
      .argument('<user>', 'user id, or email (any case)')
      .requiredOption('--reason <text>', 'why (kept on the suspension and in the audit log)')
      .option('--case <id>', 'the fraud case acted on (from `rayon fraud cases`): it must be about this user')
      .option('--void-points', 'also debit the whole balance as one fraud_void (asks for confirmation; `fraud lift --restore-points` gives it back)')
      .description('suspend a user at once: collecting, earning and redeeming are refused, pending redemptions are held; open cases become actioned')
      .action(
        action(async (ctx, { args, opts }) => {
          const caseId = opts.case === undefined ? undefined : parseIntStrict(opts.case, '--case', { min: 1 });
          const { resolveUser } = await import('../../core/users/index.js');
          const { suspendUser } = await import('../../core/fraud/index.js');
          const knex = (await ctx.db()).knex;
          const user = await resolveUser(knex, args[0]);
          if (opts.voidPoints) await ctx.confirm(`Suspend ${user.id} and void their whole balance?`);
          const r = await suspendUser(knex, { userId: user.id, reason: opts.reason, actor: ctx.actor, caseId, voidPoints: Boolean(opts.voidPoints), now: ctx.now() });
          if (ctx.config.json) return ctx.out.data(r);
          const s = r.suspension;
          if (r.noop) {
            ctx.out.info(`${user.id} is already suspended (suspension ${s.id} by ${s.actor} since ${s.started_at.toISOString()}: ${s.reason}); nothing changed.`);
            return;
          }
          ctx.out.success(`${user.id} suspended (suspension ${s.id}${s.case_id ? `, case ${s.case_id}` : ''}).`);
          if (r.cases_actioned.length) ctx.out.info(`Open case(s) marked actioned: ${r.cases_actioned.join(', ')}.`);
          if (r.voided) {
            ctx.out.table(['lot', 'points voided', 'lot expiry'], r.voided.lots.map((l) => [l.lot_id, l.points, l.expires_at]));
            ctx.out.info(`${r.voided.points} point(s) voided by transaction ${r.voided.transaction_id}.`);
          } else if (opts.voidPoints) {
            ctx.out.info('No points to void: the balance is 0.');
          }
        }),
      ),
    [
      'rayon fraud suspend u-re-0042 --reason "shared reference ring, SUP-1204" --case 17',
      'rayon fraud suspend someone@example.org --reason "lockstep farm" --void-points --yes',
    ],
  );
}
