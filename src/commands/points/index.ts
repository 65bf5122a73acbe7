import type { Command } from 'commander';
import { registerPointsAdjust } from './adjust.js';
import { registerPointsCorrect } from './correct.js';
import { registerPointsRevert } from './revert.js';
import { registerPointsExpire } from './expire.js';

export function registerPoints(program: Command): void {
  const points = program.command('points').description('manual corrections, bulk corrections, reverts and the expiry run');
  registerPointsAdjust(points);
  registerPointsCorrect(points);
  registerPointsRevert(points);
  registerPointsExpire(points);
}
