// Resolve hook of load-recorder.mjs (runs on the loader thread): logs each import as
// `esm <TAB> specifier <TAB> resolved URL <TAB> importing URL (or -)`.
import { appendFileSync } from 'node:fs';

let file;

export async function initialize(data) {
  file = data.file;
}

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  appendFileSync(file, `esm\t${specifier}\t${result.url}\t${context.parentURL ?? '-'}\n`);
  return result;
}
