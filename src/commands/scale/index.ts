import type { Command } from 'commander';
import { registerScaleShow } from './show.js';
import { registerScaleHistory } from './history.js';
import { registerScaleDiff } from './diff.js';
import { registerScaleSet } from './set.js';
import { registerScaleApply } from './apply.js';
import { registerScaleSimulate } from './simulate.js';

export function registerScale(program: Command): void {
  const scale = program.command('scale').description('the points scale (barème): show, compare, change from a future date, simulate');
  registerScaleShow(scale);
  registerScaleHistory(scale);
  registerScaleDiff(scale);
  registerScaleSet(scale);
  registerScaleApply(scale);
  registerScaleSimulate(scale);
}
