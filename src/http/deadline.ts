import type { FastifyInstance, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { RayonError } from '../core/errors.js';
import { WorkScope, runInScope } from '../db/scope.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's database work, stopped at its deadline. */
    workScope?: WorkScope;
  }
}

/**
 * How long, past the deadline, a handler whose work is being stopped may take to settle. The
 * answer then tells what happened: a commit that beat the cancellation gives its real answer, a
 * stopped transaction (rolled back) gives 503. Past this grace the 503 goes out regardless.
 */
const SETTLE_GRACE_MS = 1000;

/**
 * The request deadline (SPEC "Degraded mode"): a request not answered `ms` after it arrived is
 * answered 503 UNAVAILABLE (through the error handler, which adds Retry-After), and its database
 * work is stopped (src/db/scope.ts): a waiting acquire fails, a running statement is cancelled,
 * no other statement starts, so its transaction rolls back and its connection comes back.
 * A request not yet in its handler (authentication, body, validation) is answered at once.
 *
 * Fastify's own `handlerTimeout` is not used: in fastify 5.12 on Node 20 its timer is cleared
 * once a request body has been read (the incoming message's `close` event), so a POST never
 * timed out; and `requestTimeout` closes the socket with 408, the client's fault, not ours.
 * Install before the routes (the `onRoute` hook wraps each handler) and before the other
 * `onRequest` hooks (authentication counts against the deadline too).
 */
export function installDeadline(app: FastifyInstance, ms: number, onExpired: (req: FastifyRequest) => void): void {
  const inHandler = new WeakSet<FastifyRequest>();
  app.decorateRequest('workScope', undefined);
  app.addHook('onRequest', (req, reply, done) => {
    const scope = new WorkScope();
    req.workScope = scope;
    const answer503 = () => {
      if (reply.sent || reply.raw.headersSent) return;
      onExpired(req);
      void reply.send(scope.reason);
    };
    let grace: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      if (reply.sent || reply.raw.headersSent) return;
      scope.abort(new RayonError('UNAVAILABLE', `no answer within the request deadline (${ms} ms); retry shortly`));
      if (inHandler.has(req)) grace = setTimeout(answer503, SETTLE_GRACE_MS);
      else answer503();
    }, ms);
    // The response's `close`: answered, or the client went away.
    reply.raw.once('close', () => {
      clearTimeout(timer);
      clearTimeout(grace);
    });
    done();
  });
  app.addHook('onRoute', (route) => {
    const handler = route.handler as RouteHandlerMethod;
    route.handler = async function deadlineBound(this: FastifyInstance, req, reply) {
      const scope = req.workScope;
      if (scope === undefined) return handler.call(this, req, reply);
      inHandler.add(req);
      return runInScope(scope, async () => {
        let out: unknown;
        try {
          out = await handler.call(this, req, reply);
        } catch (err) {
          if (!scope.aborted) throw err;
          if (reply.sent) return undefined;
          // Stopped at the deadline (its transaction rolled back): the deadline's answer.
          onExpired(req);
          throw scope.reason;
        }
        // Done after all (its commit beat the cancellation): the real answer, unless the grace ran out.
        return scope.aborted && reply.sent ? undefined : out;
      });
    };
  });
}
