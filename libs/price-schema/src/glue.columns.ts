import { PRICE_TICK_COLUMNS, PRICE_TICK_FIELDS } from './price-tick.schema';

export interface GlueColumn {
  name: string;
  type: string;
  comment?: string;
}

/** Glue/Athena columns of the raw table, in schema order (the `datehour` partition key is added by the table). */
export const GLUE_COLUMNS: readonly GlueColumn[] = PRICE_TICK_COLUMNS.map((name) => ({
  name,
  type: PRICE_TICK_FIELDS[name].glue,
}));

/** The Athena partition key over Firehose's `YYYY/MM/dd/HH` key layout. */
export const GLUE_PARTITION_KEYS: readonly GlueColumn[] = [
  { name: 'datehour', type: 'string', comment: 'yyyy/MM/dd/HH of arrival at Firehose (UTC)' },
];

/** The column list of a `CREATE EXTERNAL TABLE` statement, e.g. "`record_id` string,\n  `price` string". */
export function athenaColumnsDdl(): string {
  return GLUE_COLUMNS.map((c) => `\`${c.name}\` ${c.type}`).join(',\n  ');
}
