import type { Command } from 'commander';
import { action, examples } from './context.js';
import { migrateLatest } from '../db/migrate.js';

export function registerQuickstart(program: Command): void {
  examples(
    program
      .command('quickstart')
      .description('set up a database (embedded unless DATABASE_URL is set), apply migrations, and show what to try next')
      .action(
        action(async (ctx) => {
          const db = await ctx.db();
          ctx.out.info(`Database: ${db.label}`);
          const applied = await migrateLatest(db);
          ctx.out.success(applied.length ? `Applied ${applied.length} migration(s).` : 'Schema already up to date.');
        }),
      ),
    ['rayon quickstart'],
  );
}
