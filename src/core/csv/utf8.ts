/** UTF-8 at the byte level, for readers that check a file chunk by chunk as it streams. */

/** Length of the prefix that does not end inside a multi-byte sequence. */
export function completeUpTo(b: Buffer): number {
  const len = b.length;
  let k = len - 1;
  while (k >= 0 && k >= len - 4 && (b[k] & 0xc0) === 0x80) k--;
  if (k < 0 || b[k] < 0xc0) return len;
  const need = b[k] >= 0xf0 ? 4 : b[k] >= 0xe0 ? 3 : 2;
  return len - k < need ? k : len;
}

/** Offset of the first byte that does not start a valid UTF-8 sequence (-1 when valid). */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    if (i + n >= b.length) return i; // truncated sequence at the end of the file
    if (b[i + 1] < lo || b[i + 1] > hi) return i;
    for (let k = 2; k <= n; k++) if ((b[i + k] & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return -1;
}
