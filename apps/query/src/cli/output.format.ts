import type { ColumnSpec, ResultRow, ResultValue } from '../queries/query.types';

export const FORMATS = ['table', 'csv', 'json'] as const;
export type OutputFormat = (typeof FORMATS)[number];

const text = (v: ResultValue) => (v === null ? '' : String(v));

/** RFC 4180: quote a field holding a comma, quote or line break; double the quotes. */
function csvField(v: ResultValue): string {
  const s = text(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Rows in the asked format, columns in the query's order; ends with a newline. */
export function formatRows(rows: readonly ResultRow[], columns: readonly ColumnSpec[], format: OutputFormat): string {
  const names = columns.map((c) => c.name);
  if (format === 'json') return `${JSON.stringify(rows, names, 2)}\n`;
  if (format === 'csv')
    return [names.join(','), ...rows.map((r) => names.map((n) => csvField(r[n] ?? null)).join(','))].join('\n') + '\n';
  const cells = rows.map((r) => names.map((n) => text(r[n] ?? null)));
  const widths = names.map((n, i) => Math.max(n.length, ...cells.map((c) => (c[i] ?? '').length)));
  const numeric = columns.map((c) => c.type === 'integer' || c.type === 'double');
  const line = (values: string[]) =>
    values
      .map((v, i) => (numeric[i] ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return (
    [line(names), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line), `(${rows.length} rows)`].join('\n') +
    '\n'
  );
}
