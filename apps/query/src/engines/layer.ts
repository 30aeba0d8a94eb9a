/**
 * Which layer answers a query: `auto` reads silver (the compactor's event-time Parquet) for the hours it has
 * compacted and raw NDJSON for the rest (the open hour, anything not compacted yet); `raw` and `silver` force one.
 */
export const LAYERS = ['auto', 'raw', 'silver'] as const;
export type LayerName = (typeof LAYERS)[number];
