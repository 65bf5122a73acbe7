import type { Command } from 'commander';
import { action, examples, parseIntStrict } from '../context.js';

export function registerCatalogList(catalog: Command): void {
  examples(
    catalog
      .command('list')
      .description('list rewards (active and inactive) with filters; stock = units still available')
      .option('--territory <code>', 'offered in this territory')
      .option('--category <code>', 'in this category')
      .option('--partner <code>', 'from this partner')
      .option('--available', 'only rewards available now (in --territory, or in one of their territories)')
      .option('--search <text>', 'text in sku, name or description')
      .option('--page <n>', 'page, from 1', '1')
      .option('--limit <n>', 'rows per page (at most 1000)', '100')
      .action(
        action(async (ctx, { opts }) => {
          const { listCatalog } = await import('../../core/catalog/index.js');
          const db = await ctx.db();
          const res = await listCatalog(db.knex, {
            territory: opts.territory,
            category: opts.category,
            partner: opts.partner,
            available: Boolean(opts.available),
            search: opts.search,
            now: ctx.now(),
            page: parseIntStrict(opts.page, '--page', { min: 1 }),
            limit: parseIntStrict(opts.limit, '--limit', { min: 1, max: 1000 }),
          });
          if (ctx.config.json) return ctx.out.data(res);
          ctx.out.table(
            ['id', 'sku', 'name', 'cost', 'category', 'partner', 'territories', 'from', 'to', 'stock', 'fulfilment', 'active'],
            res.items.map((i) => [
              i.id, i.sku, i.name.length > 40 ? `${i.name.slice(0, 39)}…` : i.name, i.cost, i.category, i.partner, i.territories.join('|'),
              i.available_from, i.available_to, i.stock === null ? 'unlimited' : `${i.stock}/${i.total_stock}`, i.fulfilment, i.active ? 'yes' : ctx.out.c.yellow('no'),
            ]),
          );
          ctx.out.info(`${res.total} reward(s); page ${res.page} shows ${res.items.length}.`);
        }),
      ),
    ['rayon catalog list --territory RE --available', 'rayon catalog list --category food --search panier --json'],
  );
}
