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
  const { confirm } = await import('@inquirer/prompts');
  const ok = await confirm({ message: question, default: false }, { output: process.stderr });
  if (!ok) throw new RayonError('CONFIRMATION_REQUIRED', 'not confirmed: nothing was written');
}

/**
 * The confirmation for what cannot be undone (dropping data): the database's name, typed at a
 * terminal or given with --confirm-database by a script. --yes is not enough: it is how scripts
 * answer every other question, so it cannot also mean "I named what I am about to destroy".
 */
export async function confirmByName(config: Config, expected: string, question: string, given: string | undefined): Promise<void> {
  if (given !== undefined) {
    if (given === expected) return;
    throw new RayonError('VALIDATION_ERROR', `--confirm-database ${JSON.stringify(given)} does not match the database name ${JSON.stringify(expected)}: nothing was changed`);
  }
  if (!config.interactive) {
    throw new RayonError('CONFIRMATION_REQUIRED', `${question} — confirmation needed: pass --confirm-database ${JSON.stringify(expected)} (stdin is not a terminal; --yes is not enough to drop data)`);
  }
  const { input } = await import('@inquirer/prompts');
  const typed = await input({ message: `${question}\nType the database name to confirm (${expected}):` }, { output: process.stderr });
  if (typed.trim() !== expected) throw new RayonError('CONFIRMATION_REQUIRED', 'the name typed does not match: nothing was changed');
}

/**
 * Replacing an existing output file: --force, or a person who says yes at a terminal. --yes does
 * not count: scripts pass it to run the command at all, so it would turn every typo in a file name
 * into a lost file.
 */
export async function confirmReplace(config: Config, option: string, file: string): Promise<void> {
  const refuse = (why: string) => new RayonError('VALIDATION_ERROR', `${option} ${file} already exists: ${why}`);
  if (!config.interactive) throw refuse('add --force to replace it (stdin is not a terminal)');
  if (config.yes) throw refuse('add --force to replace it (--yes does not replace files)');
  const { confirm } = await import('@inquirer/prompts');
  const ok = await confirm({ message: `${file} already exists. Replace it?`, default: false }, { output: process.stderr });
  if (!ok) throw refuse('not replaced (add --force to replace it without asking)');
}
