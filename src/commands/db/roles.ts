import type { Command } from 'commander';
import { action, examples } from '../context.js';
import { RayonError } from '../../core/errors.js';

/**
 * `rayon db roles --app-role NAME [--password-env VAR]`: create or update the role `rayon serve`
 * and the scheduled jobs connect as. Run by the owner of the schema (the role that runs
 * migrations), again after each `migrate latest` so new tables are covered.
 */
export function registerDbRoles(db: Command): void {
  examples(
    db
      .command('roles')
      .requiredOption('--app-role <name>', 'the role to create or update (lower-case letters, digits, _)')
      .option('--password-env <var>', 'set its password from this environment variable (never printed, stored as SCRAM-SHA-256)')
      .description('create or update the least-privilege role for rayon serve and the scheduled jobs; revokes anything else it holds')
      .action(
        action(async (ctx, { opts }) => {
          // Checked before anything is opened: without a server there is no role to make (and
          // no embedded data folder should be created for nothing).
          if (!ctx.config.databaseUrl) {
            throw new RayonError('VALIDATION_ERROR', 'rayon db roles needs a PostgreSQL server (DATABASE_URL or --database-url): the embedded database has no roles — it is one process, guarded by its data folder', {
              details: [{ where: 'DATABASE_URL', message: 'not set' }],
            });
          }
          const { secretFromEnv } = await import('../../config.js');
          const { applyAppRole } = await import('../../db/roles.js');
          const password = opts.passwordEnv === undefined ? undefined : secretFromEnv('--password-env', String(opts.passwordEnv));
          const r = await applyAppRole((await ctx.db()).knex, { role: String(opts.appRole), password, actor: ctx.actor, now: ctx.now() });
          if (ctx.config.json) ctx.out.data(r);
          else {
            ctx.out.table(['object', 'privileges'], r.grants.map((g) => [g.object, g.privileges.join(', ')]));
            for (const line of r.revoked) ctx.out.info(`revoked: ${line}`);
          }
          const writable = r.grants.filter((g) => g.object.startsWith('table ') && g.privileges.some((p) => p !== 'SELECT')).length;
          ctx.out.success(
            `Role ${r.role} ${r.created ? 'created' : 'updated'} on ${r.database}: reads the ${r.schema} schema, writes ${writable} table(s), ` +
              `no DELETE, TRUNCATE or DDL; password ${r.password}.`,
          );
        }),
      ),
    [
      'rayon db roles --app-role rayon_app',
      'RAYON_APP_PASSWORD=$(openssl rand -base64 32) rayon db roles --app-role rayon_app --password-env RAYON_APP_PASSWORD',
    ],
  );
}
