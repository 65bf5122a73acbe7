import type { Command } from 'commander';
import { registerMigrate } from './migrate/index.js';
import { registerQuickstart } from './quickstart.js';

/** Every command group, in the order `rayon --help` lists them. */
export function registerAll(program: Command): void {
  registerQuickstart(program);
  registerMigrate(program);
}
