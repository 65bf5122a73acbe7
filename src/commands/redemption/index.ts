import type { Command } from 'commander';
import { registerRedemptionList } from './list.js';
import { registerRedemptionApprove } from './approve.js';
import { registerRedemptionReject } from './reject.js';

export function registerRedemption(program: Command): void {
  const redemption = program.command('redemption').description('review redemptions: list, approve, reject');
  registerRedemptionList(redemption);
  registerRedemptionApprove(redemption);
  registerRedemptionReject(redemption);
}
