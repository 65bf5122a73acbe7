import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { RayonError } from '../errors.js';

/**
 * Every file the CLI writes goes through here, so that no command destroys a file by accident:
 * - the content goes to a temporary file in the same folder, flushed to disk, then renamed over
 *   the target: a crash or an error midway leaves the old file whole, and the temporary file is
 *   removed;
 * - the target may not be one of the command's input files (same path once symlinks are
 *   resolved, or the same device and inode: a hard link);
 * - an existing file is replaced only when the caller says so (`replace`: --force, or a person
 *   who confirmed); otherwise the new file is linked into place, which fails if one appeared.
 */

export interface OutputFileOptions {
  /** The option or argument that named the file, for messages: '--reject-file', '--out', 'FILE'. */
  option: string;
  /** Files the command reads: the output may not be one of them. */
  inputs?: string[];
  /** Replace an existing file (--force, or a confirmation). */
  replace?: boolean;
  /** Permissions of a new file (a replaced file keeps its own). Default 0o666 less the umask. */
  mode?: number;
}

export interface OutputCheck {
  /** Where the content will land: the target with symlinks resolved. */
  dest: string;
  exists: boolean;
}

const refuse = (message: string) => new RayonError('VALIDATION_ERROR', message);

/** Resolve the target and refuse a folder, a missing folder, or one of the inputs. */
export function checkOutputFile(file: string, opts: Pick<OutputFileOptions, 'option' | 'inputs'>): OutputCheck {
  const abs = path.resolve(file);
  let dest: string;
  let target: fs.Stats | undefined;
  try {
    target = fs.statSync(abs);
    dest = fs.realpathSync(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw refuse(`${opts.option} ${file}: ${(err as Error).message}`);
    if (isSymlink(abs)) throw refuse(`${opts.option} ${file} is a symbolic link to a missing file: give the real path`);
    let dir: string;
    try {
      dir = fs.realpathSync(path.dirname(abs));
    } catch {
      throw refuse(`${opts.option} ${file}: the folder ${path.dirname(abs)} does not exist`);
    }
    dest = path.join(dir, path.basename(abs));
  }
  if (target?.isDirectory()) throw refuse(`${opts.option} ${file} is a folder`);
  if (target) {
    for (const input of opts.inputs ?? []) {
      const same = sameFile(input, abs, dest, target);
      if (same) throw refuse(`${opts.option} ${file} is the input file ${input} (${same}): writing it would destroy the input; choose another path`);
    }
  }
  return { dest, exists: Boolean(target) };
}

function isSymlink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

function sameFile(input: string, abs: string, dest: string, target: fs.Stats): string | null {
  let st: fs.Stats;
  let real: string;
  try {
    st = fs.statSync(input);
    real = fs.realpathSync(input);
  } catch {
    return null; // an input that does not exist cannot be overwritten
  }
  if (real === dest) return path.resolve(input) === abs ? 'the same path' : `both lead to ${real}`;
  if (st.dev === target.dev && st.ino === target.ino) return 'the same file through a hard link';
  return null;
}

/** A file being written: `stream` takes the content, `commit` puts it in place, `abort` throws it away. */
export class OutputFile {
  /**
   * The stream owns the descriptor: it closes it once its pending writes are done (a descriptor
   * closed under a pending write could be reused and written to), and `flush` fsyncs it first.
   */
  readonly stream: fs.WriteStream;
  readonly dest: string;
  private readonly tmp: string;
  private done = false;

  constructor(
    readonly file: string,
    private readonly opts: OutputFileOptions,
  ) {
    const { dest, exists } = checkOutputFile(file, opts);
    if (exists && !opts.replace) throw refuse(`${opts.option} ${file} already exists: add --force to replace it`);
    this.dest = dest;
    this.tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`);
    const mode = exists ? fs.statSync(dest).mode & 0o7777 : (opts.mode ?? 0o666);
    // Opened here, synchronously, so a folder that cannot be written is refused before any work.
    const fd = fs.openSync(this.tmp, 'wx', mode);
    try {
      if (exists) fs.fchmodSync(fd, mode); // the umask must not loosen or tighten a replaced file
    } catch (err) {
      fs.closeSync(fd);
      fs.rmSync(this.tmp, { force: true });
      throw err;
    }
    this.stream = fs.createWriteStream(this.tmp, { fd, flush: true });
    this.stream.on('error', () => undefined); // kept in stream.errored and thrown by commit()
  }

  /** Flush the content to disk and move it over the target. On failure nothing is left behind. */
  async commit(): Promise<void> {
    if (this.done) throw new Error(`${this.file}: already committed or aborted`);
    try {
      if (!this.stream.writableEnded) this.stream.end();
      await closed(this.stream);
      if (this.stream.errored) throw this.stream.errored;
      this.place();
      this.done = true;
      syncFolder(path.dirname(this.dest));
    } catch (err) {
      await this.cleanup();
      throw err;
    }
  }

  /** Throw the content away: the target is untouched. Safe to call twice, or after a commit. */
  async abort(): Promise<void> {
    if (this.done) return;
    await this.cleanup();
  }

  private place(): void {
    if (this.opts.replace) return fs.renameSync(this.tmp, this.dest);
    try {
      // A link refuses to replace a file that appeared since the check; rename would not.
      fs.linkSync(this.tmp, this.dest);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw refuse(`${this.opts.option} ${this.file} appeared while it was being written: add --force to replace it`);
      if (fs.existsSync(this.dest)) throw refuse(`${this.opts.option} ${this.file} already exists: add --force to replace it`);
      return fs.renameSync(this.tmp, this.dest); // a file system without hard links
    }
    fs.rmSync(this.tmp, { force: true });
  }

  private async cleanup(): Promise<void> {
    this.done = true;
    this.stream.destroy();
    await closed(this.stream);
    fs.rmSync(this.tmp, { force: true });
  }
}

/** Resolves once the stream has released its descriptor (after any write under way). */
function closed(stream: fs.WriteStream): Promise<void> {
  if (stream.closed) return Promise.resolve();
  return new Promise((resolve) => stream.once('close', () => resolve()));
}

/** Best effort: make the rename itself durable (not every platform can open a folder). */
function syncFolder(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    /* not supported here */
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Write a whole file through `write`, which gets the stream to fill (and must have finished with
 * it when its promise settles). Any error leaves the target as it was.
 */
export async function writeOutputFile(file: string, opts: OutputFileOptions, write: (out: Writable) => Promise<void>): Promise<{ dest: string }> {
  const out = new OutputFile(file, opts);
  try {
    await write(out.stream);
    await out.commit();
  } catch (err) {
    await out.abort();
    throw err;
  }
  return { dest: out.dest };
}
