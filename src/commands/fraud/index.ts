import type { Command } from 'commander';
import { registerFraudScan } from './scan.js';
import { registerFraudRulesShow } from './rules-show.js';
import { registerFraudRulesSet } from './rules-set.js';
import { registerFraudCases } from './cases.js';
import { registerFraudDismiss } from './dismiss.js';
import { registerFraudSuspend } from './suspend.js';
import { registerFraudLift } from './lift.js';
import { registerFraudList } from './list.js';

export function registerFraud(program: Command): void {
  const fraud = program.command('fraud').description('fraud rules, back-tests, the review queue of cases, and suspensions');
  registerFraudScan(fraud);
  const rules = fraud.command('rules').description('the rules\' parameters');
  registerFraudRulesShow(rules);
  registerFraudRulesSet(rules);
  registerFraudCases(fraud);
  registerFraudDismiss(fraud);
  registerFraudSuspend(fraud);
  registerFraudLift(fraud);
  registerFraudList(fraud);
}
