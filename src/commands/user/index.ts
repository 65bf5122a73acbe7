import type { Command } from 'commander';
import { registerUserImport } from './import.js';
import { registerUserAdd } from './add.js';
import { registerUserShow } from './show.js';
import { registerUserHistory } from './history.js';
import { registerUserExplain } from './explain.js';
import { registerUserBeta } from './beta.js';

export function registerUser(program: Command): void {
  const user = program.command('user').description('users from the accounts system: import, add, show, explain, history, beta flag');
  registerUserImport(user);
  registerUserAdd(user);
  registerUserShow(user);
  registerUserExplain(user);
  registerUserHistory(user);
  registerUserBeta(user);
}
