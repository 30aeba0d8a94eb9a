import { DEFAULT_SLACK } from '../engines/arrival-window';
import { athenaStatement } from '../engines/athena.engine';
import { NO_WATERMARK } from '../engines/athena-source.sql';
import { LAYERS, type LayerName } from '../engines/layer';
import { QUERIES, QUERY_NAMES } from './query.registry';
import type { QueryDefinition, ResultRow } from './query.types';

/** One Athena saved query: what infra deploys as an `AWS::Athena::NamedQuery`. */
export interface AthenaNamedQuery {
  name: string;
  description: string;
  /** Which layer the SQL reads for the raw bucket: `auto` (silver + raw from the watermark), `raw` or `silver`. */
  layer: LayerName;
  /** With `?` placeholders, run with ExecutionParameters in the order the description lists. */
  sql: string;
}

/** Default table names the SQL reads (infra's Glue table over raw/, and the same layout over the backup bucket). */
export const ATHENA_TABLES = { raw: 'raw_ticks', backup: 'backup_ticks', silver: 'silver_ticks' } as const;

const LAYER_NOTE: Record<LayerName, string> = {
  auto:
    `silver for what is compacted, raw arrival hours from the compactor's watermark on (the ` +
    `parameter ${NO_WATERMARK}: put rawCompleteBefore of ` +
    `SILVER_BUCKET/_state/compactor/watermark.json there as yyyy/MM/dd/HH, or leave it to read ` +
    `every raw hour)`,
  raw: 'raw only',
  silver: 'silver only (what the compactor has not reached is missing)',
};

/**
 * The query definitions as Athena named queries, over the default tables, one per query and layer (`btc-etl-<query>`
 * is `auto`, `-raw` and `-silver` force one): plain `{ name, description, layer, sql }` data. The build writes it to
 * dist/apps/query/named-queries.json, which infra deploys.
 */
export const ATHENA_NAMED_QUERIES: readonly AthenaNamedQuery[] = QUERY_NAMES.flatMap((name) =>
  LAYERS.map((layer) => {
    const definition = QUERIES[name] as unknown as QueryDefinition<unknown, ResultRow>;
    // the example only shows the order and form of ExecutionParameters; the SQL text never depends on it
    const params = definition.params.parse(definition.example);
    const statement = athenaStatement(definition, params, {
      rawTable: ATHENA_TABLES.raw,
      backupTable: ATHENA_TABLES.backup,
      slack: DEFAULT_SLACK,
      silver: { silverTable: ATHENA_TABLES.silver, layer },
    });
    return {
      name: layer === 'auto' ? `btc-etl-${name}` : `btc-etl-${name}-${layer}`,
      description: (
        `${definition.description}; ${LAYER_NOTE[layer]}. ` +
        `ExecutionParameters, e.g.: ${statement.parameters.join(', ')}`
      ).slice(0, 1024),
      layer,
      sql: statement.sql,
    };
  }),
);
