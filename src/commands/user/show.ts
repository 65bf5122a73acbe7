import type { Command } from 'commander';
import { action, examples } from '../context.js';
import { getUser } from '../../core/users/index.js';
import { expiringSoon, readBalance, pointsHistory } from '../../core/ledger/index.js';

export function registerUserShow(user: Command): void {
  examples(
    user
      .command('show')
      .argument('<user>', 'user id')
      .description('one user at a glance: profile, balance and status, streak, suspension, points expiring soon, last transactions')
      .action(
        action(async (ctx, { args }) => {
          const db = (await ctx.db()).knex;
          const now = ctx.now();
          const u = await getUser(db, args[0]);
          const bal = await readBalance(db, u.id, now);
          const expiring = await expiringSoon(db, u.id, now, 30);
          const recent = await pointsHistory(db, u.id, { page: 1, limit: 5 });
          const view = {
            id: u.id, email: u.email, name: u.name, territory: u.territory, territory_state: u.territory_state, beta: u.beta,
            created_at: u.created_at, balance: bal.balance, lifetime_points: bal.lifetime_points, status: bal.status,
            streak: { current: u.current_streak, max: u.max_streak, last_check_in: u.last_check_in, jokers_available: u.jokers_available },
            suspended: u.suspended, suspension: u.suspension, expiring_soon: expiring, recent_transactions: recent.items,
          };
          if (ctx.config.json) return ctx.out.data(view);
          const c = ctx.out.c;
          ctx.out.record({
            user: `${u.id}  ${u.name} <${u.email}>`,
            territory: `${u.territory} (${u.territory_state})${u.beta ? ', beta tester' : ''}`,
            balance: `${c.bold(String(bal.balance))} points — status ${bal.status}, lifetime ${bal.lifetime_points}`,
            streak: `${u.current_streak ?? 0} day(s) (max ${u.max_streak ?? 0}), last check-in ${u.last_check_in ?? 'never'}, jokers ${u.jokers_available ?? 0}`,
            suspended: u.suspended ? c.red(`yes — ${u.suspension?.reason} (by ${u.suspension?.actor})`) : 'no',
            'expiring ≤30d': expiring.length ? expiring.map((e) => `${e.points} on ${e.expires_at.toISOString()}`).join(', ') : 'nothing',
          });
          if (recent.items.length) {
            ctx.out.text();
            ctx.out.table(['id', 'when', 'type', 'amount', 'detail'], recent.items.map((t) => [t.id, t.created_at, t.type, t.amount, t.action_type ?? t.reason ?? '']));
          }
        }),
      ),
    ['rayon user show u-re-0001', 'rayon user show u-re-0001 --json'],
  );
}
