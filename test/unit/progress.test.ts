import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { fileProgress, PROGRESS_MIN_BYTES } from '../../src/commands/progress.js';

/** A stderr stand-in that records what is written; `isTTY` as a terminal or a pipe would say. */
function fakeStderr(isTTY: boolean) {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  }) as Writable & { isTTY?: boolean; columns?: number; cursorTo?: unknown; clearLine?: unknown };
  stream.isTTY = isTTY;
  stream.columns = 100;
  return { stream, text: () => text };
}

describe('file progress bar', () => {
  const MB = 1048576;

  it('draws on a terminal for a large file, up to the whole file', () => {
    const err = fakeStderr(true);
    const p = fileProgress(err.stream, 'importing');
    expect(p.onProgress).toBeTypeOf('function');
    p.onProgress?.(0, 12 * MB);
    p.onProgress?.(6 * MB, 12 * MB);
    p.onProgress?.(12 * MB, 12 * MB);
    p.stop();
    expect(err.text()).toMatch(/importing \[.*\] 100% \| 12\/12 MB/);
  });

  it('stays silent on a terminal for a small file', () => {
    const err = fakeStderr(true);
    const p = fileProgress(err.stream, 'importing');
    p.onProgress?.(0, PROGRESS_MIN_BYTES - 1);
    p.onProgress?.(PROGRESS_MIN_BYTES - 1, PROGRESS_MIN_BYTES - 1);
    p.stop();
    expect(err.text()).toBe('');
  });

  it('stays silent when stderr is not a terminal (pipe, CI, log), whatever the size', () => {
    const err = fakeStderr(false);
    const p = fileProgress(err.stream, 'importing');
    expect(p.onProgress).toBeUndefined();
    p.stop();
    expect(err.text()).toBe('');
  });
});
