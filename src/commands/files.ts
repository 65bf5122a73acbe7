import fs from 'node:fs';
import { RayonError } from '../core/errors.js';

/** Read an input file, turning "no such file" into a usage error that names it. */
export function readInputFile(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RayonError('VALIDATION_ERROR', `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (err as Error).message}`);
  }
}
