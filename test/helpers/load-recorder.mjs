// Preload for `node --import`: records every module the process loads, so a test can say which
// packages a command touched. ESM resolutions come from a resolve hook (node:module register,
// Node 20.6+); CommonJS packages (knex, pg…) are read from the require cache at exit, because
// Node 20's hooks do not see require() calls made inside a CommonJS package.
// The log file is named by LOAD_RECORDER_FILE; one line per import or module, tab-separated:
// `esm specifier url parent-url` (see load-recorder-hooks.mjs) or `cjs path`.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const file = process.env.LOAD_RECORDER_FILE;
if (!file) throw new Error('load-recorder: set LOAD_RECORDER_FILE to the log file');

register('./load-recorder-hooks.mjs', import.meta.url, { data: { file } });

const require = createRequire(import.meta.url);
process.on('exit', () => {
  const lines = Object.keys(require.cache).map((f) => `cjs\t${f}\n`);
  appendFileSync(file, lines.join(''));
});
