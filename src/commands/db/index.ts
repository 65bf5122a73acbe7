import type { Command } from 'commander';
import { registerDbRoles } from './roles.js';

export function registerDb(program: Command): void {
  const db = program.command('db').description('database administration: the least-privilege role of the app');
  registerDbRoles(db);
}
