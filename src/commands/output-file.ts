import { checkOutputFile, type OutputFileOptions } from '../core/files/index.js';
import type { Ctx } from './context.js';
import { confirmReplace } from './prompt.js';

/** The option every command that writes a file takes. */
export const FORCE_DESCRIPTION = 'replace the output file if it exists (never one of the inputs)';

/**
 * Settle, before any work, whether a command may write `file`: never over one of its inputs; over
 * an existing file only with --force or a yes at a terminal (see confirmReplace). The result goes
 * to the core writer, which checks again when it puts the file in place.
 */
export async function outputTarget(ctx: Ctx, file: string, opts: { option: string; inputs?: string[]; force?: boolean }): Promise<OutputFileOptions & { file: string }> {
  const { exists } = checkOutputFile(file, opts);
  if (exists && !opts.force) await confirmReplace(ctx.config, opts.option, file);
  return { file, option: opts.option, inputs: opts.inputs, replace: exists || Boolean(opts.force) };
}
