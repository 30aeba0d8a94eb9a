/**
 * Exchange sends candles as JSON numbers (`[1764273180, 97100.5, ...]`). JSON.parse would turn `97100.50` into
 * 97100.5 and a tiny price into `1e-7`; records keep prices as the decimal text that was sent, so number literals are
 * read from the text itself. Only arrays are rewritten: object keys can be reordered by JSON.parse (integer-like keys
 * come first), which would misalign literals and values.
 */
export function parseJsonKeepingNumberText(text: string): unknown {
  const literals: string[] = [];
  let hasObject = false;
  const numberAt = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      // skip the string, honouring escapes
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (c === '{') {
      hasObject = true;
    } else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      numberAt.lastIndex = i;
      const match = numberAt.exec(text);
      if (match) {
        literals.push(match[0]);
        i += match[0].length - 1;
      }
    }
  }
  if (hasObject) return JSON.parse(text);
  let next = 0;
  // JSON.parse visits array leaves in document order, so the n-th number is the n-th literal
  return JSON.parse(text, (_key, value: unknown) =>
    typeof value === 'number' ? (literals[next++] ?? String(value)) : value,
  );
}

/**
 * A JSON number literal as a plain decimal string: exponents expanded (`1.5e-7` -> `0.00000015`), sign kept, digits
 * otherwise untouched (`97100.50` stays `97100.50`).
 */
export function plainDecimal(literal: string): string {
  const match = /^(-?)(\d+)(?:\.(\d+))?[eE]([+-]?\d+)$/.exec(literal);
  if (!match) return literal;
  const [, sign = '', int = '', frac = '', exp = '0'] = match;
  const digits = int + frac;
  const point = int.length + Number(exp);
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  out = out.replace(/^0+(?=\d)/, '');
  return sign + out;
}
