import type { Command } from 'commander';
import { Option } from 'commander';
import { action, examples } from '../context.js';
import { RayonError, type FieldError } from '../../core/errors.js';
// The tokens door is light (node:crypto and the error table; the start-up test keeps it so): the
// roles are the choices of --role, so the door is imported when the command is defined.
import { parseTtl, TOKEN_ROLES, type TokenRole } from '../../core/tokens/index.js';

/** `rayon token issue`: mint an HS256 token with RAYON_JWT_SECRET, for operators and tests. */
export function registerTokenIssue(token: Command): void {
  examples(
    token
      .command('issue')
      .argument('<subject>', 'user id (role user) or the calling system\'s name (service, admin)')
      .addOption(new Option('--role <role>', 'user, service or admin').choices([...TOKEN_ROLES]).default('user'))
      .option('--ttl <duration>', 'lifetime: 90s, 15m, 1h, 7d (user tokens at most 30d; service and admin at most 24h)', '1h')
      .description('print a signed token (stdout) with a random jti for the HTTP mode; expiry uses the real clock, not --now')
      .action(
        action(async (ctx, { args, opts }) => {
          const { USER_ID_RE } = await import('../../core/users/index.js');
          const { resolveAuthConfig } = await import('../../config/serve.js');
          const { issueToken } = await import('../../http/auth.js');
          const errors: FieldError[] = [];
          const auth = resolveAuthConfig(undefined, errors, 'sign'); // the environment, read by the configuration layer
          if (errors.length) throw new RayonError('VALIDATION_ERROR', `cannot sign: ${errors.map((e) => `${e.where} ${e.message}`).join('; ')}`, { details: errors });
          const sub = args[0];
          const role = opts.role as TokenRole;
          if (role === 'user' && !USER_ID_RE.test(sub)) throw new RayonError('VALIDATION_ERROR', `<subject> of a user token must be a user id (1-64 of A-Z a-z 0-9 _ . -), got ${JSON.stringify(sub)}`);
          if (sub.length === 0 || sub.length > 128) throw new RayonError('VALIDATION_ERROR', '<subject> must be 1-128 characters');
          const ttlSeconds = parseTtl(String(opts.ttl), role);
          const t = await issueToken(auth, { sub, role, ttlSeconds });
          if (ctx.config.json) ctx.out.data({ token: t.token, jti: t.jti, sub, role, expires_at: t.expires_at });
          else ctx.out.text(t.token);
          ctx.out.info(`${role} token for ${sub}, jti ${t.jti}, expires ${t.expires_at}`);
        }),
      ),
    ['rayon token issue alice --ttl 15m', 'rayon token issue checkout-service --role service --ttl 12h', 'TOKEN=$(rayon token issue alice)'],
  );
}
