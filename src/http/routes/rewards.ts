import type { FastifyInstance } from 'fastify';
import { catalogPageJson, catalogTerritory } from '../../core/catalog/index.js';
import { assertPageDepth } from '../../core/bounds.js';
import { maskVoucherCode, parseIdempotencyKey, redeem, redeemFingerprint, userRedemptions } from '../../core/redemption/index.js';
import { actorOf, iso, seesVoucherCodes, targetUser } from '../guard.js';
import { routeOptions, type AppCtx } from '../route.js';
import type { Principal } from '../auth.js';

type Q = Record<string, unknown>;

interface RedemptionOut {
  id: number | string;
  reward_id: number | string;
  status: string;
  points_spent: number;
  voucher_code: string | null;
  created_at: Date | string;
}

/** A redemption as `p` may read it: the voucher code masked for a service token. */
const redemptionOut = (r: RedemptionOut, p: Principal) => ({
  id: String(r.id),
  reward_id: String(r.reward_id),
  status: r.status,
  points_spent: r.points_spent,
  voucher_code: r.voucher_code == null ? null : seesVoucherCodes(p) ? r.voucher_code : maskVoucherCode(r.voucher_code),
  created_at: iso(r.created_at),
});

/** The catalog page the app shows, redeeming a reward, and the user's redemptions. */
export function registerRewardsRoutes(app: FastifyInstance, ctx: AppCtx): void {
  app.get('/api/rewards/catalog', routeOptions('catalog'), async (req, reply) => {
    const p = req.principal as Principal;
    const q = req.query as Q;
    await ctx.limit('catalog', p.sub);
    assertPageDepth(q.page as number, q.limit as number); // validation before the user is looked up
    // A user token browses its own territory by default; systems must say which one.
    const territory = await catalogTerritory(ctx.knex, q.territory_id as string | undefined, { role: p.role, userId: p.sub });
    const page = await catalogPageJson(ctx.knex, {
      territory,
      category: q.category_id as string | undefined,
      page: q.page as number,
      limit: q.limit as number,
      now: ctx.now(),
    }, { totals: ctx.catalogTotals });
    // The items arrive as JSON text in the answer's shape (built by PostgreSQL): sent as is.
    return reply
      .type('application/json; charset=utf-8')
      .send(`{"items":${page.itemsJson},"page":${page.page},"limit":${page.limit},"total":${page.total}}`);
  });

  app.post('/api/rewards/redeem', routeOptions('redeem'), async (req) => {
    const p = req.principal as Principal;
    const body = req.body as Q;
    const userId = targetUser(p, body.user_id as string | undefined);
    const idempotencyKey = parseIdempotencyKey(req.headers['idempotency-key']);
    await ctx.limit('redeem', userId);
    const rewardId = Number(body.reward_id);
    // The fingerprint covers the validated body with user_id filled in, so a user token that
    // omits user_id and one that names itself are the same request.
    const r = await redeem(ctx.knex, userId, rewardId, ctx.now(), {
      idempotencyKey,
      fingerprint: redeemFingerprint(userId, rewardId),
      actor: actorOf(p),
    });
    // A service redeeming for a user gets the code masked too: the user reads it whole with
    // their own token (history), so a leaked service token cannot spend points into vouchers it keeps.
    return { redemption: redemptionOut(r.redemption, p), balance: r.balance };
  });

  app.get('/api/rewards/history', routeOptions('rewards-history'), async (req) => {
    const q = req.query as Q;
    const p = req.principal as Principal;
    const userId = targetUser(p, q.user_id as string | undefined);
    await ctx.limit('rewards-history', userId);
    const h = await userRedemptions(ctx.knex, userId, { page: q.page as number, limit: q.limit as number });
    return { items: h.items.map((r) => redemptionOut(r as RedemptionOut, p)), page: h.page, limit: h.limit, total: h.total };
  });
}
