import { SILVER_LEXICAL_COLUMNS } from '@btc-etl/price-schema';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

/**
 * DuckDB as an independent oracle: the same questions written in DuckDB's own SQL (time_bucket, arg_min/arg_max,
 * DISTINCT ON, generate_series), not derived from the engine's code or its Athena SQL. Test and bench only.
 */
export class DuckOracle {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  static async open(threads?: number): Promise<DuckOracle> {
    const instance = await DuckDBInstance.create(':memory:', threads ? { threads: String(threads) } : {});
    return new DuckOracle(instance, await instance.connect());
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }

  /** Rows as plain JS objects (BIGINT to number). */
  async all(sql: string): Promise<Record<string, unknown>[]> {
    const reader = await this.connection.runAndReadAll(sql);
    return reader
      .getRowObjectsJS()
      .map((row) =>
        Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])),
      );
  }

  /**
   * Define the view `src_<name>` over NDJSON or Parquet files (a glob or a list). Malformed lines are ignored by
   * DuckDB's reader; valid JSON that is not a valid record is filtered in `valid_<name>`.
   */
  async source(name: string, files: string | string[], format: 'ndjson' | 'parquet'): Promise<void> {
    const list = (Array.isArray(files) ? files : [files]).map((f) => `'${f.replace(/'/g, "''")}'`).join(', ');
    const columns = `record_id, product_id, status, price, exchange_time, scheduled_time, ingest_time, reason`;
    const read =
      format === 'parquet'
        ? `SELECT ${columns} FROM read_parquet([${list}])`
        : `SELECT ${columns} FROM read_json([${list}], format = 'newline_delimited', ignore_errors = true,
             columns = {record_id: 'VARCHAR', product_id: 'VARCHAR', status: 'VARCHAR', price: 'VARCHAR',
                        exchange_time: 'VARCHAR', scheduled_time: 'VARCHAR', ingest_time: 'VARCHAR',
                        reason: 'VARCHAR'})`;
    await this.connection.run(`CREATE OR REPLACE VIEW src_${name} AS ${read}`);
    await this.connection.run(`CREATE OR REPLACE VIEW valid_${name} AS
      SELECT DISTINCT ON (record_id) *,
             CAST(rtrim(coalesce(exchange_time, scheduled_time), 'Z') AS TIMESTAMP) AS ts,
             CAST(rtrim(scheduled_time, 'Z') AS TIMESTAMP) AS sched_ts,
             CAST(rtrim(ingest_time, 'Z') AS TIMESTAMP) AS ingest_ts
      FROM src_${name}
      WHERE regexp_full_match(record_id, '[0-9a-f]{32}')
        AND ((status = 'ok' AND regexp_full_match(price, '[0-9]+([.][0-9]+)?'))
             OR (status = 'missed' AND price IS NULL))
      ORDER BY record_id, ingest_time`);
  }

  /**
   * Define `src_<name>` / `valid_<name>` over silver files (a glob over the `silver/ticks/` partition folders), with
   * `product_id` from the Hive folders and the typed columns turned back into the strings raw holds: the codec's
   * documented `lexical_forms` (one base-36 digit count per decimal/time column, `-` for null) says how many fraction
   * digits each value was written with. Written from that rule in DuckDB's SQL, not from the engine's code; the same
   * validity view as raw follows, so every question above runs unchanged over silver.
   */
  async silverSource(name: string, glob: string): Promise<void> {
    const at = (field: string) => SILVER_LEXICAL_COLUMNS.indexOf(field as never) + 1;
    const digits = (field: string) =>
      `(CASE WHEN substr(lexical_forms, ${at(field)}, 1) BETWEEN '0' AND '9' ` +
      `THEN ascii(substr(lexical_forms, ${at(field)}, 1)) - 48 ` +
      `ELSE ascii(substr(lexical_forms, ${at(field)}, 1)) - 87 END)`;
    const decimal = (field: string) => `CASE WHEN ${field} IS NULL THEN NULL WHEN ${digits(field)} = 0
        THEN split_part(CAST(${field} AS VARCHAR), '.', 1)
        ELSE rpad(CAST(${field} AS VARCHAR),
                  CAST(length(split_part(CAST(${field} AS VARCHAR), '.', 1)) + 1 + ${digits(field)} AS INTEGER),
                  '0') END`;
    const time = (field: string) => `CASE WHEN ${field} IS NULL THEN NULL WHEN ${digits(field)} = 0
        THEN strftime(${field}, '%Y-%m-%dT%H:%M:%S') || 'Z'
        ELSE strftime(${field}, '%Y-%m-%dT%H:%M:%S') || '.'
             || rpad(strftime(${field}, '%f'), CAST(${digits(field)} AS INTEGER), '0') || 'Z' END`;
    await this.connection.run(`CREATE OR REPLACE VIEW src_${name} AS
      SELECT record_id, CAST(product_id AS VARCHAR) AS product_id, status, ${decimal('price')} AS price,
             ${time('exchange_time')} AS exchange_time, ${time('scheduled_time')} AS scheduled_time,
             ${time('ingest_time')} AS ingest_time, reason
      FROM read_parquet('${glob.replace(/'/g, "''")}', hive_partitioning = true)`);
    await this.connection.run(`CREATE OR REPLACE VIEW valid_${name} AS
      SELECT DISTINCT ON (record_id) *,
             CAST(rtrim(coalesce(exchange_time, scheduled_time), 'Z') AS TIMESTAMP) AS ts,
             CAST(rtrim(scheduled_time, 'Z') AS TIMESTAMP) AS sched_ts,
             CAST(rtrim(ingest_time, 'Z') AS TIMESTAMP) AS ingest_ts
      FROM src_${name}
      ORDER BY record_id, ingest_time`);
  }

  ohlc(
    name: string,
    product: string,
    widthSeconds: number,
    from: string,
    to: string,
  ): Promise<Record<string, unknown>[]> {
    return this.all(`
      SELECT strftime(time_bucket(INTERVAL '${widthSeconds} seconds', date_trunc('second', ts), TIMESTAMP '2000-01-01'),
                      '%Y-%m-%dT%H:%M:%S.000Z') AS bucket_start,
             arg_min(price, (epoch_us(ts), record_id)) AS open,
             arg_max(price, (CAST(price AS DECIMAL(38, 18)), -epoch_us(ts))) AS high,
             arg_min(price, (CAST(price AS DECIMAL(38, 18)), epoch_us(ts))) AS low,
             arg_max(price, (epoch_us(ts), record_id)) AS close,
             count(*) AS ticks
      FROM valid_${name}
      WHERE status = 'ok' AND product_id = '${product}'
        AND ts >= TIMESTAMP '${from}' AND ts < TIMESTAMP '${to}'
      GROUP BY 1 ORDER BY 1`);
  }

  latest(name: string, from: string, to: string, nowEpoch: number): Promise<Record<string, unknown>[]> {
    return this.all(`
      SELECT product_id, arg_max(price, (epoch_us(ts), record_id)) AS price,
             arg_max(coalesce(exchange_time, scheduled_time), (epoch_us(ts), record_id)) AS tick_time,
             ${nowEpoch} - CAST(floor(epoch(max(ts))) AS BIGINT) AS age_s
      FROM valid_${name}
      WHERE status = 'ok' AND ts >= TIMESTAMP '${from}' AND ts < TIMESTAMP '${to}'
      GROUP BY product_id ORDER BY product_id`);
  }

  freshness(
    stores: Record<string, string>,
    from: string,
    to: string,
    nowEpoch: number,
  ): Promise<Record<string, unknown>[]> {
    const union = Object.entries(stores)
      .map(([store, name]) => `SELECT '${store}' AS store, * FROM valid_${name}`)
      .join(' UNION ALL ');
    return this.all(`
      SELECT store, product_id, arg_max(ingest_time, (epoch_us(ingest_ts), record_id)) AS newest_ingest_time,
             ${nowEpoch} - CAST(floor(epoch(max(ingest_ts))) AS BIGINT) AS age_s
      FROM (${union})
      WHERE ingest_ts >= TIMESTAMP '${from}' AND ingest_ts < TIMESTAMP '${to}'
      GROUP BY store, product_id ORDER BY store, product_id`);
  }

  summary(name: string, product: string, from: string, to: string): Promise<Record<string, unknown>[]> {
    return this.all(`
      SELECT strftime(date_trunc('day', ts), '%Y-%m-%dT%H:%M:%S.000Z') AS day, count(*) AS ticks,
             arg_min(price, CAST(price AS DECIMAL(38, 18))) AS min,
             arg_max(price, CAST(price AS DECIMAL(38, 18))) AS max,
             avg(CAST(price AS DOUBLE)) AS mean, stddev_samp(CAST(price AS DOUBLE)) AS stddev,
             arg_min(price, (epoch_us(ts), record_id)) AS open, arg_max(price, (epoch_us(ts), record_id)) AS close,
             CAST(arg_max(price, (epoch_us(ts), record_id)) AS DOUBLE)
               / CAST(arg_min(price, (epoch_us(ts), record_id)) AS DOUBLE) - 1 AS "return"
      FROM valid_${name}
      WHERE status = 'ok' AND product_id = '${product}' AND ts >= TIMESTAMP '${from}' AND ts < TIMESTAMP '${to}'
      GROUP BY 1 ORDER BY 1`);
  }

  /** Per second: ok, else the alphabetically least miss reason, else no_record. */
  private seconds(name: string, product: string, from: string, to: string): string {
    return `
      WITH expected AS (
        SELECT unnest(generate_series(TIMESTAMP '${from}', TIMESTAMP '${to}' - INTERVAL 1 SECOND, INTERVAL 1 SECOND))
               AS sec
      ), per_second AS (
        SELECT date_trunc('second', sched_ts) AS sec, bool_or(status = 'ok') AS has_ok,
               min(reason) FILTER (WHERE status = 'missed') AS reason
        FROM valid_${name}
        WHERE product_id = '${product}' AND scheduled_time IS NOT NULL
        GROUP BY 1
      )
      SELECT e.sec, CASE WHEN p.has_ok THEN 'ok' WHEN p.sec IS NULL THEN 'no_record' ELSE p.reason END AS state
      FROM expected e LEFT JOIN per_second p USING (sec)`;
  }

  gaps(name: string, product: string, from: string, to: string): Promise<Record<string, unknown>[]> {
    return this.all(`
      WITH s AS (${this.seconds(name, product, from, to)}),
      runs AS (
        SELECT sec, state, sum(CASE WHEN state IS DISTINCT FROM prev THEN 1 ELSE 0 END) OVER (ORDER BY sec) AS run
        FROM (SELECT sec, state, lag(state) OVER (ORDER BY sec) AS prev FROM s)
      )
      SELECT strftime(min(sec), '%Y-%m-%dT%H:%M:%S.000Z') AS start,
             strftime(max(sec) + INTERVAL 1 SECOND, '%Y-%m-%dT%H:%M:%S.000Z') AS "end",
             count(*) AS seconds, any_value(state) AS reason
      FROM runs WHERE state <> 'ok' GROUP BY run ORDER BY min(sec)`);
  }

  completeness(name: string, product: string, from: string, to: string): Promise<Record<string, unknown>[]> {
    return this.all(`
      WITH s AS (${this.seconds(name, product, from, to)})
      SELECT strftime(date_trunc('hour', sec), '%Y-%m-%dT%H:%M:%S.000Z') AS hour, count(*) AS expected,
             count(*) FILTER (WHERE state = 'ok') AS ok,
             count(*) FILTER (WHERE state NOT IN ('ok', 'no_record')) AS missed,
             count(*) FILTER (WHERE state = 'no_record') AS missing,
             (count(*) FILTER (WHERE state = 'ok'))::DOUBLE / count(*) AS completeness
      FROM s GROUP BY 1 ORDER BY 1`);
  }
}
