import type { Command } from 'commander';
import { action, examples, type Ctx } from '../context.js';
import type { UserProfile } from '../../core/support/index.js';

export function registerUserShow(user: Command): void {
  examples(
    user
      .command('show')
      .argument('<user>', 'user id, or email (any case)')
      .description(
        'one user at a glance: identity, territory and local time, status, balance with open lots and expiries, ' +
          'streak and jokers, last transactions, redemptions, suspensions, open fraud cases, audit entries',
      )
      .action(
        action(async (ctx, { args }) => {
          const { userProfile, localTime } = await import('../../core/support/index.js');
          const p = await userProfile((await ctx.db()).knex, args[0], ctx.now());
          if (ctx.config.json) return ctx.out.data(p);
          render(ctx, p, (d) => localTime(d, p.timezone));
        }),
      ),
    ['rayon user show u-re-0001', 'rayon user show Marie.Dupont@example.org', 'rayon user show u-re-0001 --json | jq .balance'],
  );
}

/** The screen, section by section; times of the user's territory are shown in its local time. */
function render(ctx: Ctx, p: UserProfile, local: (d: Date) => string): void {
  const { out } = ctx;
  const c = out.c;
  const next = p.next_status;
  const s = p.streak;
  const active = p.suspensions.find((x) => x.lifted_at === null);
  out.record({
    user: `${p.id}  ${p.name} <${p.email}>${p.beta ? '  (beta tester)' : ''}`,
    territory: `${p.territory} ${p.territory_name} (${p.territory_state}), local time ${p.local_time} ${p.timezone}`,
    'member since': local(p.created_at),
    status: `${p.status}, lifetime ${p.lifetime_points} points${next.code ? `, ${next.points_to_go} to ${next.code}` : ', top status'}`,
    balance: `${c.bold(String(p.balance))} points in ${p.open_lots_total} open lot(s)`,
    streak:
      `${s.current} day(s) (max ${s.max}), jokers ${s.jokers_available}, last collection ${s.last_check_in ?? 'never'}, ` +
      `today ${s.collected_today ? 'collected' : 'not collected'}; next collection ×${s.multiplier} = ${s.next_points} points`,
    suspended: active ? c.red(`yes, since ${local(active.started_at)} by ${active.actor}: ${active.reason}`) : 'no',
  });

  section(ctx, `Open lots (soonest expiry first${p.open_lots_total > p.open_lots.length ? `, ${p.open_lots.length} of ${p.open_lots_total}` : ''})`);
  if (p.open_lots.length) {
    out.table(
      ['lot', 'credited', 'expires (local)', 'amount', 'remaining', 'kind'],
      p.open_lots.map((l) => [l.lot_id, local(l.credited_at), local(l.expires_at), l.amount, l.remaining, l.recredit ? 're-credit' : 'credit']),
    );
  } else out.text('none');
  const soon = p.expiring_soon;
  out.text(`Expiring within 30 local days: ${soon.length ? soon.map((e) => `${e.points} on ${local(e.expires_at)}`).join(', ') : 'nothing'}`);

  section(ctx, `Last transactions (${p.recent_transactions.length} of ${p.transactions_total})`);
  if (p.recent_transactions.length) {
    out.table(
      ['id', 'when (local)', 'type', 'amount', 'detail', 'reverted'],
      p.recent_transactions.map((x) => [x.id, local(x.created_at), x.type, x.amount, x.detail, x.reverted ? 'yes' : '']),
    );
  } else out.text('none');

  section(ctx, `Redemptions (${p.redemptions.length} of ${p.redemptions_total})`);
  if (p.redemptions.length) {
    out.table(
      ['id', 'when (local)', 'reward', 'points', 'status', 'voucher', 'decided'],
      p.redemptions.map((r) => [r.id, local(r.created_at), `${r.sku} ${r.reward_name}`, r.points_spent, r.status, r.voucher ?? '', r.decided_at ? `${r.decided_by}${r.reason ? `: ${r.reason}` : ''}` : '']),
    );
  } else out.text('none');

  section(ctx, 'Suspensions');
  if (p.suspensions.length) {
    out.table(
      ['id', 'since (local)', 'by', 'reason', 'lifted (local)', 'lifted by', 'lift reason'],
      p.suspensions.map((x) => [x.id, local(x.started_at), x.actor, x.reason, x.lifted_at ? local(x.lifted_at) : c.red('active'), x.lifted_by ?? '', x.lift_reason ?? '']),
    );
  } else out.text('none');

  section(ctx, 'Open fraud cases');
  if (p.open_cases.length) {
    out.table(['case', 'rule', 'score', 'last seen (local)', 'evidence'], p.open_cases.map((k) => [k.id, k.rule, k.score, local(k.last_seen), k.evidence]));
  } else out.text('none');

  section(ctx, 'Last audit entries about the user');
  if (p.audit.length) {
    out.table(['id', 'when (local)', 'actor', 'action', 'target'], p.audit.map((a) => [a.id, local(a.business_at ?? a.at), a.actor, a.action, a.target ?? '']));
  } else out.text('none');
}

function section(ctx: Ctx, title: string): void {
  ctx.out.text();
  ctx.out.text(ctx.out.c.bold(title));
}
