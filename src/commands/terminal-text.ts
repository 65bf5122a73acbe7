import crypto from 'node:crypto';
import { Chalk, type ChalkInstance } from 'chalk';

/**
 * Text printed to a terminal (SPEC "Input bounds"): names, reasons, subs and other stored text
 * reach the screen, and a terminal acts on the control characters they may carry (ANSI escapes
 * that recolour, hide, move the cursor, set the title, fake a line; bidi overrides that reorder).
 * Those are shown escaped instead (`\x1b`, `\u009b`, `\n`), while the output's own colours
 * still work.
 */

// C0 controls, DEL, C1 controls, and the bidi embeddings, overrides and isolates.
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const CONTROLS_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeOne(ch: string): string {
  const code = ch.charCodeAt(0);
  return NAMED[ch] ?? (code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
}

/** Every control character of `text` written as an escape; newlines kept when asked (text lines). */
export function escapeControls(text: string, opts: { keepNewlines?: boolean } = {}): string {
  return text.replace(opts.keepNewlines ? CONTROLS_BUT_NEWLINE : CONTROLS, escapeOne);
}

/**
 * A chalk whose styles can be told apart from escapes smuggled in by data: each style's text is
 * escaped first, and its own ESC characters come out as an unguessable marker that `render`
 * turns back into ESC after escaping the whole line. Without colour, plain chalk (no codes).
 */
export class TerminalStyle {
  readonly c: ChalkInstance;
  private readonly mark: string | null;

  constructor(colour: boolean) {
    const chalk = new Chalk({ level: colour ? 1 : 0 });
    if (!colour) {
      this.c = chalk;
      this.mark = null;
      return;
    }
    const mark = `\u{f8ff}${crypto.randomBytes(8).toString('hex')}\u{f8ff}`;
    // The proxy's own target is a blank function: chalk caches each style as a read-only
    // property of its builder, which a proxy on the builder itself could not answer differently.
    const wrap = (real: object): ChalkInstance =>
      new Proxy(() => undefined, {
        get: (_t, prop) => {
          const v = Reflect.get(real, prop, real);
          return typeof v === 'function' ? wrap(v) : v;
        },
        apply: (_t, self, args: unknown[]) => {
          const out = Reflect.apply(real as (...a: unknown[]) => unknown, self, args.map((a) => escapeControls(String(a))));
          if (typeof out === 'string') return out.replaceAll('\u001b', mark);
          return typeof out === 'function' ? wrap(out) : out;
        },
      }) as unknown as ChalkInstance;
    this.c = wrap(chalk);
    this.mark = mark;
  }

  /** `text` safe for a terminal: controls escaped (newlines too unless kept), this style's colours restored. */
  render(text: string, opts: { keepNewlines?: boolean } = {}): string {
    const safe = escapeControls(text, opts);
    return this.mark ? safe.replaceAll(this.mark, '\u001b') : safe;
  }
}
