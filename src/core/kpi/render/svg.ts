/** Small helpers to write SVG and HTML text safely (every value escaped, numbers rounded). */

export function esc(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** A coordinate with two decimals at most: smaller files, identical output across runs. */
export function n(v: number): string {
  return String(Math.round(v * 100) / 100);
}

export function attrs(a: Record<string, string | number | undefined>): string {
  return Object.entries(a)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${esc(typeof v === 'number' ? n(v) : (v as string))}"`)
    .join('');
}

export function el(name: string, a: Record<string, string | number | undefined>, body = ''): string {
  return body ? `<${name}${attrs(a)}>${body}</${name}>` : `<${name}${attrs(a)}/>`;
}

/** Compact thousands: 12500 → "12.5k". */
export function short(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${n(v / 1e6)}M`;
  if (a >= 1e4) return `${n(v / 1e3)}k`;
  return n(v);
}
