import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { action, examples } from './context.js';
import { migrateLatest } from '../db/migrate.js';
import { importUsers, territoryCodes, parseUsersCsv, listTerritories } from '../core/users/index.js';

/** The sample files shipped at the package root: two levels up from src/commands, three from dist/src/commands. */
function examplesDir(): string {
  const candidates = ['../../examples/', '../../../examples/'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'users.csv'))) ?? candidates[0];
}

export function registerQuickstart(program: Command): void {
  examples(
    program
      .command('quickstart')
      .description('set up a database (embedded unless DATABASE_URL is set), apply migrations, load sample users, and show what to try next')
      .option('--no-sample', 'do not load the sample users')
      .action(
        action(async (ctx, { opts }) => {
          const db = await ctx.db();
          const out = ctx.out;
          out.info(out.c.bold('Rayon points — quickstart'));
          out.info(`Database: ${db.label}${db.kind === 'embedded' ? ' (embedded PostgreSQL; set DATABASE_URL to use a server)' : ''}`);
          const applied = await migrateLatest(db);
          out.success(applied.length ? `Applied ${applied.length} migration(s).` : 'Schema already up to date.');
          const dir = examplesDir();
          const rel = (f: string) => path.relative(process.cwd(), path.join(dir, f)) || f;
          const { n } = (await db.knex('users').count({ n: '*' }).first()) as { n: number };
          if (opts.sample !== false && Number(n) === 0) {
            const file = parseUsersCsv(fs.readFileSync(path.join(dir, 'users.csv')), 'users.csv', await territoryCodes(db.knex));
            const r = await importUsers(db.knex, file, { now: ctx.now(), actor: ctx.actor });
            out.success(`Loaded ${r.inserted} sample users from ${rel('users.csv')}.`);
          } else {
            out.info(`${n} user(s) already here: sample users not loaded.`);
          }
          const territories = await listTerritories(db.knex, ctx.now());
          if (ctx.config.json) {
            ctx.out.data({ database: db.label, applied, territories });
            return;
          }
          out.text();
          out.text(out.c.bold('Territories') + ' (only La Réunion is open at first; a "day" is the local day of each one):');
          out.table(['code', 'name', 'time zone', 'state', 'local date', 'users'], territories.map((t) => [t.code, t.name, t.timezone, t.state, t.local_date, t.users]));
          const steps: Array<[string, string]> = [
            ['rayon user show u-re-0001', 'one user at a glance: balance, status, streak, expiring points'],
            ['rayon points adjust u-re-0001 150 --reason "welcome gesture" --ticket SUP-1', 'a manual correction (audited; -50 takes points back)'],
            [`rayon points correct ${rel('corrections.csv')} --dry-run`, 'preview a bulk corrections file, then run it with --yes (twice: the second run changes nothing)'],
            ['rayon user history u-re-0001', 'the ledger rows of one user'],
            ['rayon ledger verify', 'check every invariant of the ledger (exit 5 on a discrepancy)'],
            ['rayon audit list --since 1h', 'who changed what'],
            ['rayon scale show', 'the point scale (barème) in force'],
            [`rayon partner import ${rel('partners.csv')} --yes && npx rayon catalog import ${rel('catalog-fr.csv')} --dry-run`, 'a partner catalog as a French spreadsheet exports it'],
            ['rayon territory launch MQ --beta', 'open Martinique to its beta testers'],
            ['rayon --help', 'every command; each one has --help with examples'],
          ];
          out.text();
          out.text(out.c.bold('Try next:'));
          for (const [cmd, why] of steps) out.text(`  ${out.c.cyan(`npx ${cmd}`)}\n      ${why}`);
        }),
      ),
    ['rayon quickstart', 'DATABASE_URL=postgres://postgres@127.0.0.1:5432/test rayon quickstart'],
  );
}
