import type { Command } from 'commander';
import type { Knex } from 'knex';
import { action, examples, parseIntStrict } from '../context.js';
import { notFound } from '../../core/errors.js';

/** A version number, or a scale file (to compare a proposal with a version). */
async function load(db: Knex, ref: string): Promise<unknown> {
  const { getScaleVersion, parseScaleJson } = await import('../../core/scale/index.js');
  const { readInputFile } = await import('../files.js');
  if (/^\d+$/.test(ref)) {
    const v = await getScaleVersion(db, parseIntStrict(ref, 'version', { min: 1 }));
    if (!v) throw notFound('scale version', ref);
    return v.document;
  }
  return parseScaleJson(readInputFile(ref).toString('utf8'), ref);
}

export function registerScaleDiff(scale: Command): void {
  examples(
    scale
      .command('diff')
      .argument('<a>', 'a version number or a scale file')
      .argument('<b>', 'a version number or a scale file')
      .description('what changes from A to B, key by key')
      .action(
        action(async (ctx, { args }) => {
          const { diffScales, formatChange } = await import('../../core/scale/index.js');
          const db = (await ctx.db()).knex;
          const changes = diffScales(await load(db, args[0]), await load(db, args[1]));
          if (ctx.config.json) return ctx.out.data({ a: args[0], b: args[1], changes });
          if (changes.length === 0) return ctx.out.info(`No difference between ${args[0]} and ${args[1]}.`);
          for (const c of changes) ctx.out.text(formatChange(c));
        }),
      ),
    ['rayon scale diff 1 2', 'rayon scale diff 2 proposal.json'],
  );
}
