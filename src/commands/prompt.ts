import { confirm } from '@inquirer/prompts';
import { RayonError } from '../core/errors.js';
import type { Config } from '../config.js';

/**
 * The one place that asks a person. With --yes it answers yes; with no TTY on stdin it refuses
 * (CONFIRMATION_REQUIRED, exit 2), so scripts and CI never hang on a prompt.
 */
export async function confirmOrRefuse(config: Config, question: string): Promise<void> {
  if (config.yes) return;
  if (!config.interactive) {
    throw new RayonError('CONFIRMATION_REQUIRED', `${question} — confirmation needed: run again with --yes (stdin is not a terminal)`);
  }
  const ok = await confirm({ message: question, default: false }, { output: process.stderr });
  if (!ok) throw new RayonError('CONFIRMATION_REQUIRED', 'not confirmed: nothing was written');
}
