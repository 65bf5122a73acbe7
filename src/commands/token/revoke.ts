import type { Command } from 'commander';
import { action, examples } from '../context.js';
import { RayonError } from '../../core/errors.js';
// The tokens door is light (node:crypto and the error table; the start-up test keeps it so): its
// default revocation span is part of the help text, so the door is imported when the command is defined.
import { DEFAULT_REVOCATION_S, formatDuration, revokeToken } from '../../core/tokens/index.js';

/** `rayon token revoke JTI --reason R`: running servers refuse that token within a minute. */
export function registerTokenRevoke(token: Command): void {
  examples(
    token
      .command('revoke')
      .argument('<jti>', 'the token\'s id (its "jti" claim, printed by `rayon token issue`)')
      .requiredOption('--reason <text>', 'why (kept with the revocation and in the audit log)')
      .option('--expires-at <iso-instant>', `the token's expiry, when known: the revocation is kept until then (default: ${formatDuration(DEFAULT_REVOCATION_S)} from now)`)
      .description('revoke one token: running servers refuse it within a minute (audited); revoking it again changes nothing')
      .action(
        action(async (ctx, { args, opts }) => {
          const { parseInstant } = await import('../../core/time.js');
          let expiresAt: Date | undefined;
          if (opts.expiresAt !== undefined) {
            const d = parseInstant(String(opts.expiresAt));
            if (!d) throw new RayonError('VALIDATION_ERROR', `--expires-at must be an ISO instant with a zone, got ${JSON.stringify(opts.expiresAt)}`);
            expiresAt = d;
          }
          // Tokens expire by the real clock, so their revocations do too (never --now).
          const r = await revokeToken((await ctx.db()).knex, { jti: args[0], reason: String(opts.reason), actor: ctx.actor, now: new Date(), expiresAt });
          const v = r.revocation;
          if (ctx.config.json) ctx.out.data({ ...v, already_revoked: !r.created });
          if (r.created) ctx.out.success(`Token ${v.jti} revoked until ${v.expires_at.toISOString()}: running servers refuse it within a minute.`);
          else ctx.out.info(`Token ${v.jti} was already revoked at ${v.revoked_at.toISOString()} by ${v.actor} (${v.reason}), until ${v.expires_at.toISOString()}; nothing changed.`);
        }),
      ),
    ['rayon token revoke 3f6c1e0a-8a4e-4d47-9a51-1c2b3d4e5f60 --reason "token leaked in a support ticket"'],
  );
}
