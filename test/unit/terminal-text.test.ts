import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { escapeControls, TerminalStyle } from '../../src/commands/terminal-text.js';
import { Output } from '../../src/commands/output.js';

const ESC = '\u001b';
const hostile = `Eve${ESC}[2J${ESC}]0;pwned\u0007\nroot\r\u009b31m\u202eevil\u007f`;

function capture(json = false): { out: Output; stdout: () => string; stderr: () => string } {
  const o = new PassThrough();
  const e = new PassThrough();
  const chunks = { o: [] as Buffer[], e: [] as Buffer[] };
  o.on('data', (c: Buffer) => chunks.o.push(c));
  e.on('data', (c: Buffer) => chunks.e.push(c));
  return {
    out: new Output(json, false, o, e),
    stdout: () => Buffer.concat(chunks.o).toString(),
    stderr: () => Buffer.concat(chunks.e).toString(),
  };
}

describe('text printed to a terminal has its control characters escaped', () => {
  it('writes C0, DEL, C1 and bidi controls as escapes; newlines kept only where asked', () => {
    expect(escapeControls(hostile)).toBe('Eve\\x1b[2J\\x1b]0;pwned\\x07\\nroot\\r\\u009b31m\\u202eevil\\x7f');
    expect(escapeControls('a\nb\tc', { keepNewlines: true })).toBe('a\nb\\tc');
    expect(escapeControls('Zoë Hoarau — 東京 ✔')).toBe('Zoë Hoarau — 東京 ✔');
  });

  it('Output: table cells, records, text lines and messages carry no raw control character', () => {
    const c = capture();
    c.out.table(['id', 'name'], [['u1', hostile]]);
    c.out.record({ user: hostile, n: 3 });
    c.out.text(`name: ${hostile}`);
    c.out.info(`reason ${hostile}`);
    c.out.warn(hostile);
    c.out.error(hostile);
    c.out.success(hostile);
    for (const text of [c.stdout(), c.stderr()]) {
      expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
      expect(text).toContain('Eve\\x1b[2J\\x1b]0;pwned\\x07');
    }
    // A cell is one line: its newline is shown as \n; a text line keeps its own line breaks.
    expect(c.stdout()).toMatch(/│ u1 │ Eve\\x1b\[2J\\x1b\]0;pwned\\x07\\nroot\\r\\u009b31m\\u202eevil\\x7f │/);
    expect(c.stdout()).toMatch(/^user {2}Eve\\x1b.*\\x7f$/m);
    expect(c.stdout()).toMatch(/^name: Eve\\x1b\[2J\\x1b\]0;pwned\\x07$\n^root\\r/m);
  });

  it('--json output is left to JSON.stringify (it escapes controls itself)', () => {
    const c = capture(true);
    c.out.data({ name: `a${ESC}b` });
    expect(c.stdout()).toContain('a\\u001bb');
    expect(JSON.parse(c.stdout())).toEqual({ name: `a${ESC}b` });
  });

  it('with colour, the output keeps its own colours while escapes inside the data stay escaped', () => {
    const s = new TerminalStyle(true);
    const line = `${s.c.yellow('no')} ${s.c.red(`suspended: ${ESC}[8mhidden`)} ${s.c.bold.green('ok')} ${ESC}[31m`;
    expect(s.render(line)).toBe(`${ESC}[33mno${ESC}[39m ${ESC}[31msuspended: \\x1b[8mhidden${ESC}[39m ${ESC}[1m${ESC}[32mok${ESC}[39m${ESC}[22m \\x1b[31m`);
    // Without colour nothing is styled, and everything is escaped.
    const plain = new TerminalStyle(false);
    expect(plain.render(`${plain.c.yellow('no')} ${ESC}[31m`)).toBe('no \\x1b[31m');
  });
});
