import type { Command } from 'commander';
import { registerTokenIssue } from './issue.js';
import { registerTokenRevoke } from './revoke.js';

export function registerToken(program: Command): void {
  const token = program.command('token').description('issue and revoke JWTs for the HTTP mode');
  registerTokenIssue(token);
  registerTokenRevoke(token);
}
