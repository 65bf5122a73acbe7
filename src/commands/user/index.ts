import type { Command } from 'commander';
import { registerUserImport } from './import.js';
import { registerUserAdd } from './add.js';
import { registerUserShow } from './show.js';
import { registerUserHistory } from './history.js';
import { registerUserBeta } from './beta.js';

export function registerUser(program: Command): void {
  const user = program.command('user').description('users from the accounts system: import, add, show, history, beta flag');
  registerUserImport(user);
  registerUserAdd(user);
  registerUserShow(user);
  registerUserHistory(user);
  registerUserBeta(user);
}
