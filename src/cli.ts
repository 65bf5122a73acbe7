import { Command, CommanderError, Option } from 'commander';
import { registerAll } from './commands/index.js';
import { takeExitCode } from './commands/context.js';
import { VERSION } from './version.js';

export function buildProgram(): Command {
  const program = new Command('rayon')
    .description('Rayon points — ledger, earning, catalog and redemptions of the Rayon loyalty programme')
    .version(VERSION)
    .option('--database-url <url>', 'PostgreSQL URL (env DATABASE_URL); without one, the embedded database in RAYON_DATA_DIR')
    .option('--json', 'machine-readable output on stdout')
    .option('-y, --yes', 'answer yes to confirmation prompts')
    .option('--actor <name>', 'who is acting, for the audit log (env RAYON_ACTOR, else the OS user)')
    .option('--now <iso-instant>', 'fix business time (env RAYON_NOW), for replays, simulations and tests')
    .option('--no-color', 'no colours (also NO_COLOR)')
    .addOption(new Option('--debug', 'print stacks of unexpected errors').hideHelp())
    .showHelpAfterError('(run with --help for usage)')
    .enablePositionalOptions(false)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });
  registerAll(program);
  // Sub-commands inherit the exit override so usage errors come back here as exit 2.
  const override = (cmd: Command) => {
    cmd.exitOverride();
    cmd.commands.forEach(override);
  };
  override(program);
  return program;
}

/** Run the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      if (err.code === 'commander.executeSubCommandAsync') return err.exitCode;
      return 2;
    }
    process.stderr.write(`error: unexpected: ${(err as Error).message}\n`);
    return 1;
  }
  return takeExitCode();
}
