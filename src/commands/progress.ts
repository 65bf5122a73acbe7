import { createRequire } from 'node:module';
import type cliProgress from 'cli-progress';

// Loaded on the first bar only (a terminal and a large file): commands import this module freely.
const require = createRequire(import.meta.url);

/** Files smaller than this import in well under a second: a bar would only flicker. */
export const PROGRESS_MIN_BYTES = 5 * 1024 * 1024;

export interface FileProgress {
  /** Undefined when nothing is to be shown: the importer then skips the calls altogether. */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  stop(): void;
}

/**
 * A progress bar for reading a file, in MB, on `stream` (stderr): only when it is a terminal and
 * the file is large; silence otherwise (pipes, CI, logs, small files).
 */
export function fileProgress(stream: NodeJS.WritableStream & { isTTY?: boolean }, label: string, minBytes = PROGRESS_MIN_BYTES): FileProgress {
  if (!stream.isTTY) return { stop: () => undefined };
  let bar: cliProgress.SingleBar | undefined;
  return {
    onProgress: (done, total) => {
      if (!bar && total >= minBytes) {
        const { SingleBar, Presets } = require('cli-progress') as typeof cliProgress;
        bar = new SingleBar({ stream, format: `${label} [{bar}] {percentage}% | {value}/{total} MB` }, Presets.shades_classic);
        bar.start(Math.ceil(total / 1048576), 0);
      }
      bar?.update(Math.floor(done / 1048576));
    },
    stop: () => bar?.stop(),
  };
}
