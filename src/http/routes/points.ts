import type { FastifyInstance } from 'fastify';
import { expiringSoon, readBalance, pointsHistory } from '../../core/ledger/index.js';
import { collectDaily, earn, streakStatus } from '../../core/earning/index.js';
import { actorOf, iso, targetUser } from '../guard.js';
import { routeOptions, type AppCtx } from '../route.js';
import type { Principal } from '../auth.js';

type Q = Record<string, unknown>;

/** Points: balance, history, daily collection, earning; and the streak status. */
export function registerPointsRoutes(app: FastifyInstance, ctx: AppCtx): void {
  app.get('/api/points/balance', routeOptions('balance'), async (req) => {
    const q = req.query as Q;
    const userId = targetUser(req.principal as Principal, q.user_id as string | undefined);
    await ctx.limit('balance', userId);
    const now = ctx.now();
    const b = await readBalance(ctx.knex, userId, now);
    const soon = await expiringSoon(ctx.knex, userId, now);
    return {
      user_id: userId,
      balance: b.balance,
      lifetime_points: b.lifetime_points,
      status: b.status,
      expiring_soon: soon.map((s) => ({ points: s.points, expires_at: iso(s.expires_at) })),
    };
  });

  app.get('/api/points/history', routeOptions('history'), async (req) => {
    const q = req.query as Q;
    const userId = targetUser(req.principal as Principal, q.user_id as string | undefined);
    await ctx.limit('history', userId);
    const h = await pointsHistory(ctx.knex, userId, { type: q.type as string | undefined, page: q.page as number, limit: q.limit as number });
    return {
      items: h.items.map((t) => ({
        id: String(t.id),
        type: t.type,
        amount: t.amount,
        created_at: iso(t.created_at),
        expires_at: iso(t.expires_at),
        action_type: t.action_type ?? null,
        reference_id: t.reference_id ?? null,
      })),
      page: h.page,
      limit: h.limit,
      total: h.total,
    };
  });

  app.post('/api/points/collect-daily', routeOptions('collect-daily'), async (req) => {
    const p = req.principal as Principal;
    const userId = targetUser(p, (req.body as Q).user_id as string | undefined);
    await ctx.limit('collect-daily', userId);
    const r = await collectDaily(ctx.knex, userId, ctx.now(), { actor: actorOf(p) });
    return { ...r, transaction_id: String(r.transaction_id) };
  });

  app.post('/api/points/earn', routeOptions('earn'), async (req) => {
    const p = req.principal as Principal;
    const body = req.body as Q;
    const userId = targetUser(p, body.user_id as string | undefined);
    await ctx.limit('earn', userId);
    // A user token may only report what the scale marks user_reportable: the core decides.
    const r = await earn(ctx.knex, userId, body.action_type as string, body.reference_id as string, ctx.now(), {
      actor: actorOf(p),
      userReported: p.role === 'user',
    });
    return { transaction_id: String(r.transaction_id), points_awarded: r.points_awarded, balance: r.balance, replay: r.replay };
  });

  app.get('/api/streaks/status', routeOptions('streak-status'), async (req) => {
    const q = req.query as Q;
    const userId = targetUser(req.principal as Principal, q.user_id as string | undefined);
    await ctx.limit('streak-status', userId);
    return streakStatus(ctx.knex, userId, ctx.now());
  });
}
