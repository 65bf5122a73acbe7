import type { Command } from 'commander';
import { action, examples } from '../context.js';

export function registerUserExplain(user: Command): void {
  examples(
    user
      .command('explain')
      .argument('<user>', 'user id, or email (any case)')
      .option('--as-of <instant>', 'the account as it stood at this ISO instant (default: now)')
      .description(
        'the balance rebuilt from the ledger: one line per transaction with the running balance and the lots each debit or ' +
          'expiry consumed, ending with the comparison against the stored balance (exit 5 when they differ)',
      )
      .action(
        action(async (ctx, { args, opts }) => {
          const { explainUser } = await import('../../core/support/index.js');
          const { ERROR_CODES, RayonError } = await import('../../core/errors.js');
          const { parseInstant } = await import('../../core/time.js');
          let asOf: Date | undefined;
          if (opts.asOf !== undefined) {
            asOf = parseInstant(opts.asOf) ?? undefined;
            if (!asOf) throw new RayonError('VALIDATION_ERROR', `--as-of must be an ISO instant with its zone (2026-05-01T10:00:00Z), got ${JSON.stringify(opts.asOf)}`);
          }
          const e = await explainUser((await ctx.db()).knex, args[0], { asOf, now: ctx.now() });
          if (ctx.config.json) ctx.out.data(e);
          else {
            const { out } = ctx;
            out.text(`${e.user_id}: ${e.transactions.length} transaction(s)${e.as_of ? ` up to ${e.as_of.toISOString()}` : ''}`);
            const rows: unknown[][] = [];
            for (const t of e.transactions) {
              const lot = t.opened_lot ? `opens lot ${t.opened_lot.lot_id}${t.opened_lot.recredit ? ' (re-credit)' : ''}, expires ${t.opened_lot.expires_at.toISOString()}` : '';
              rows.push([t.id, t.created_at, t.type, t.amount > 0 ? `+${t.amount}` : t.amount, t.running_balance, [t.detail, lot].filter(Boolean).join('; ')]);
              for (const c of t.consumed) {
                rows.push(['', '', '', '', '', `  took ${c.points} from lot ${c.lot_id} (credit ${c.credit_transaction_id}, expires ${c.expires_at.toISOString()})`]);
              }
            }
            out.table(['id', 'when', 'type', 'amount', 'balance', 'detail and lots'], rows);
            if (e.open_lots.length) {
              out.text(`Open lots${e.as_of ? ' at the as-of instant' : ''}:`);
              out.table(
                ['lot', 'credit', 'credited', 'expires', 'amount', 'remaining', ''],
                e.open_lots.map((l) => [l.lot_id, l.credit_transaction_id, l.credited_at, l.expires_at, l.amount, l.remaining, l.due ? 'past expiry, not shown' : '']),
              );
            }
            const stored = e.stored_balance === null ? 'no stored balance for a past instant' : `stored balance ${e.stored_balance}`;
            out.text(`rebuilt from the ledger ${e.rebuilt_balance} · open lots ${e.lots_balance} · ${stored} · shown balance ${e.shown_balance} → ${e.ok ? 'match' : 'MISMATCH'}`);
          }
          if (!e.ok) {
            for (const d of e.differences) ctx.out.error(d);
            return ERROR_CODES.CHECK_FAILED.exit;
          }
        }),
      ),
    ['rayon user explain u-re-0001', 'rayon user explain marie.dupont@example.org --as-of 2026-06-30T20:00:00Z', 'rayon user explain u-re-0001 --json'],
  );
}
