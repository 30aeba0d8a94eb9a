import { GLUE_COLUMNS, GLUE_PARTITION_KEYS } from '@btc-etl/price-schema';
import { RAW_PREFIX } from '@btc-etl/s3-keys';
import { Aws } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { keepLogicalId } from './stable-ids';

export interface PriceTableSpec {
  /** Construct id and (kept) logical id, e.g. `RawTable`. */
  id: string;
  name: string;
  bucket: s3.IBucket;
  description: string;
}

export interface PriceTablesProps {
  databaseName: string;
  /** First `datehour` of the projection range, `yyyy/MM/dd/HH`. */
  projectionStart: string;
  tables: PriceTableSpec[];
}

/**
 * The Glue database and one table per bucket over its `raw/`: one NDJSON price record per line (JSON SerDe), columns
 * from the price schema, partitioned by Firehose arrival hour with partition projection (no crawler, no MSCK REPAIR).
 */
export class PriceTables extends Construct {
  readonly database: glue.CfnDatabase;
  readonly tables: glue.CfnTable[];

  constructor(scope: Construct, id: string, props: PriceTablesProps) {
    super(scope, id);
    const { databaseName } = props;
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: databaseName, description: 'Bitcoin price records delivered by Firehose' },
    });
    keepLogicalId(this.database, 'Database');

    this.tables = props.tables.map((spec) => {
      const location = `s3://${spec.bucket.bucketName}/${RAW_PREFIX}`;
      const table = new glue.CfnTable(this, spec.id, {
        catalogId: Aws.ACCOUNT_ID,
        databaseName,
        tableInput: {
          name: spec.name,
          description: `${spec.description}, partitioned by Firehose arrival hour (UTC)`,
          tableType: 'EXTERNAL_TABLE',
          parameters: {
            classification: 'json',
            EXTERNAL: 'TRUE',
            'projection.enabled': 'true',
            'projection.datehour.type': 'date',
            'projection.datehour.format': 'yyyy/MM/dd/HH',
            'projection.datehour.range': `${props.projectionStart},NOW`,
            'projection.datehour.interval': '1',
            'projection.datehour.interval.unit': 'HOURS',
            'storage.location.template': `${location}\${datehour}/`,
          },
          partitionKeys: GLUE_PARTITION_KEYS.map((c) => ({ ...c })),
          storageDescriptor: {
            columns: GLUE_COLUMNS.map((c) => ({ ...c })),
            location,
            inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
            outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
            serdeInfo: { serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' },
          },
        },
      });
      keepLogicalId(table, spec.id);
      table.node.addDependency(this.database);
      return table;
    });
  }
}
