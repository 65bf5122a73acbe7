import type { FastifyInstance } from 'fastify';
import { addUser, getUser } from '../../core/users/index.js';
import { actorOf, iso, requireRole } from '../guard.js';
import { routeOptions, type AppCtx } from '../route.js';
import type { Principal } from '../auth.js';

interface UserBody {
  id: string;
  email: string;
  name: string;
  territory: string;
  beta?: boolean;
}

/** The accounts system pushes users here (service or admin tokens only): an upsert by id. */
export function registerUsersRoutes(app: FastifyInstance, ctx: AppCtx): void {
  app.post('/api/users', routeOptions('users'), async (req) => {
    const p = req.principal as Principal;
    requireRole(p, ['service', 'admin'], 'POST /api/users');
    const b = req.body as UserBody;
    await ctx.limit('users', b.id);
    const now = ctx.now();
    const r = await addUser(ctx.knex, { id: b.id, email: b.email, name: b.name, territory: b.territory, beta: b.beta }, { now, actor: actorOf(p) });
    const u = await getUser(ctx.knex, b.id);
    return { id: u.id, email: u.email, name: u.name, territory: u.territory, beta: u.beta, created_at: iso(u.created_at), created: r.inserted > 0 };
  });
}
