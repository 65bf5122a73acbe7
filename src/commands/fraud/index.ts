import type { Command } from 'commander';
import { registerFraudScan } from './scan.js';
import { registerFraudRulesShow } from './rules-show.js';
import { registerFraudRulesSet } from './rules-set.js';
import { registerFraudCases } from './cases.js';
import { registerFraudDismiss } from './dismiss.js';

export function registerFraud(program: Command): void {
  const fraud = program.command('fraud').description('fraud rules, back-tests and the review queue of cases');
  registerFraudScan(fraud);
  const rules = fraud.command('rules').description('the rules\' parameters');
  registerFraudRulesShow(rules);
  registerFraudRulesSet(rules);
  registerFraudCases(fraud);
  registerFraudDismiss(fraud);
}
