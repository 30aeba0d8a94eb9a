import type { AthenaStatement } from './query.types';

/** A value bound to a `?` placeholder: already an Athena SQL literal. */
export class SqlParam {
  constructor(readonly literal: string) {}
}

/** Text spliced into the SQL as is: only identifiers checked by `ident`, never user input. */
export class SqlRaw {
  constructor(readonly text: string) {}
}

/** A string bound as a parameter (Athena wants string parameters quoted: quotes inside are doubled). */
export function str(value: string): SqlParam {
  return new SqlParam(`'${value.replace(/'/g, "''")}'`);
}

/** A whole number bound as a parameter. */
export function int(value: number): SqlParam {
  if (!Number.isSafeInteger(value)) throw new TypeError(`not a safe integer SQL parameter: ${value}`);
  return new SqlParam(String(value));
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** A table name, double-quoted; throws on anything but letters, digits and `_` (names come from config). */
export function ident(name: string): SqlRaw {
  if (!IDENT.test(name)) throw new TypeError(`not a plain SQL identifier: ${JSON.stringify(name)}`);
  return new SqlRaw(`"${name}"`);
}

/**
 * Tagged template that turns every interpolated `SqlParam` into a `?` and collects its literal, so SQL text and
 * ExecutionParameters cannot drift apart. Fragments (other `athenaSql` results) can be interpolated.
 * @example athenaSql`SELECT * FROM ${ident('raw_ticks')} WHERE product_id = ${str('BTC-USD')}`
 *   // { sql: 'SELECT * FROM "raw_ticks" WHERE product_id = ?', parameters: ["'BTC-USD'"] }
 */
export function athenaSql(
  strings: TemplateStringsArray,
  ...values: (SqlParam | SqlRaw | AthenaStatement)[]
): AthenaStatement {
  let sql = strings[0] ?? '';
  const parameters: string[] = [];
  values.forEach((value, i) => {
    if (value instanceof SqlParam) {
      sql += '?';
      parameters.push(value.literal);
    } else if (value instanceof SqlRaw) {
      sql += value.text;
    } else {
      // a fragment built with athenaSql: its placeholders keep their order inside the whole statement
      sql += value.sql;
      parameters.push(...value.parameters);
    }
    sql += strings[i + 1] ?? '';
  });
  return { sql: sql.replace(/^\n/, ''), parameters };
}
