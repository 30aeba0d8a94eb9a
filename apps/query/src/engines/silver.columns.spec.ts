/* eslint-disable @typescript-eslint/no-non-null-assertion -- spec: indexes into files and arrays it just wrote */
import type { CompressionCodec, Encoding, SchemaElement } from 'hyparquet';
import { parquetMetadata } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { prng } from '../../test/raw-data.generator';
import { decimalBytesOf } from '../../test/silver.fixture';
import { limbsOfUnscaled } from '../queries/tick-values';
import {
  SilverColumnDecoder,
  SilverColumnError,
  chunkRange,
  limbsToBytes,
  typedChunkSupported,
  type SilverColumnKind,
} from './silver.columns';

/**
 * The typed decoder against the values written, over files hyparquet-writer makes in each encoding the decoder
 * claims (PLAIN, RLE_DICTIONARY, DELTA_BINARY_PACKED), compressed or not, with nulls and many small pages.
 */

const N = 1000;

const bytesOfUnscaled = decimalBytesOf;

interface Sample {
  micros: (bigint | null)[];
  prices: (bigint | null)[];
  strings: (string | null)[];
  ids: string[];
}

/** Values with nulls; `distinct` few repeats (dictionaries lose) or many (they win). */
function sample(seed: number, repeats: boolean): Sample {
  const rand = prng(seed);
  const micros: (bigint | null)[] = [];
  const prices: (bigint | null)[] = [];
  const strings: (string | null)[] = [];
  const ids: string[] = [];
  let t = 1_796_000_000_000_000; // 2026-11
  for (let i = 0; i < N; i++) {
    // deltas of every width up to 2^44, backwards too
    const width = Math.floor(rand() * 45);
    t += Math.floor((rand() - 0.3) * 2 ** width);
    micros.push(rand() < 0.05 ? null : BigInt(repeats ? t - (t % 1_000_000) : t));
    const price = repeats
      ? BigInt(Math.floor(rand() * 5)) * 10n ** 18n + 5n
      : BigInt(Math.floor(rand() * 2 ** 52)) * BigInt(Math.floor(rand() * 2 ** 52)) * 17n;
    prices.push(rand() < 0.05 ? null : i === 7 ? 10n ** 38n - 1n : price);
    strings.push(rand() < 0.05 ? null : repeats ? ['ok', 'missed', 'é'][i % 3]! : `s${i}-${Math.floor(rand() * 1e9)}`);
    ids.push(i.toString(16).padStart(32, '0'));
  }
  return { micros, prices, strings, ids };
}

function write(s: Sample, codec: CompressionCodec, encodings: Partial<Record<string, Encoding>>): ArrayBuffer {
  const schema: SchemaElement[] = [
    { name: 'root', num_children: 4 },
    {
      name: 't',
      type: 'INT64',
      repetition_type: 'OPTIONAL',
      converted_type: 'TIMESTAMP_MICROS',
      logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
    },
    { name: 'p', type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, repetition_type: 'OPTIONAL' },
    { name: 's', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    { name: 'id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
  ];
  const data = {
    t: s.micros,
    p: s.prices.map((v) => (v === null ? null : bytesOfUnscaled(v))),
    s: s.strings,
    id: s.ids,
  };
  // hyparquet-writer has its own copy of hyparquet's types: the same shapes, another declaration
  return parquetWriteBuffer({
    schema: schema as never,
    codec,
    pageSize: 512, // many pages per chunk
    rowGroupSize: 400, // and several row groups
    columnData: (Object.keys(data) as (keyof typeof data)[]).map((name) => ({
      name,
      data: data[name] as never,
      ...(encodings[name] ? { encoding: encodings[name] } : {}),
    })) as never,
  });
}

const KIND: Record<string, SilverColumnKind> = { t: 'int64', p: 'decimal16', s: 'string-codes', id: 'string-values' };

/** Every column of every row group through the decoder, back as plain values. */
function decodeAll(file: ArrayBuffer): Record<string, unknown[]> {
  const metadata = parquetMetadata(file);
  const out: Record<string, unknown[]> = { t: [], p: [], s: [], id: [] };
  const decoders = Object.fromEntries(Object.entries(KIND).map(([n, k]) => [n, new SilverColumnDecoder(n, k)]));
  for (const group of metadata.row_groups) {
    const rows = Number(group.num_rows);
    for (const chunk of group.columns) {
      const meta = chunk.meta_data!;
      const name = meta.path_in_schema[0] as string;
      const element = metadata.schema.find((e) => e.name === name)!;
      expect(typedChunkSupported(meta, element, KIND[name]!), `${name} ${meta.encodings.join()}`).toBe(true);
      const { start, end } = chunkRange(meta);
      const d = decoders[name]!.decode(new Uint8Array(file, start, end - start), meta, element, rows);
      for (let i = 0; i < rows; i++) {
        const valid = d.valid[i] === 1;
        if (name === 't') out.t!.push(valid ? BigInt(d.numbers[i]!) : Number.isNaN(d.numbers[i]) ? null : 'bad');
        else if (name === 'p')
          out.p!.push(valid ? limbsToBytes(d.limbs.hi[i]!, d.limbs.mid[i]!, d.limbs.lo[i]!).slice() : null);
        else if (name === 's') out.s!.push(d.codes[i]! < 0 ? null : d.table[d.codes[i]!]);
        else out.id!.push(d.strings[i]);
      }
    }
  }
  return out;
}

describe('silver column decoder', () => {
  it.each([
    ['SNAPPY', 'dictionaries (values repeat)', true, { t: 'DELTA_BINARY_PACKED' }],
    ['UNCOMPRESSED', 'dictionaries (values repeat)', true, {}],
    ['SNAPPY', 'plain (values all differ)', false, { t: 'PLAIN', p: 'PLAIN', s: 'PLAIN' }],
    ['UNCOMPRESSED', 'delta times, plain rest', false, { t: 'DELTA_BINARY_PACKED', p: 'PLAIN' }],
    ['SNAPPY', 'dictionaries forced on distinct values', false, { t: 'RLE_DICTIONARY', p: 'RLE_DICTIONARY' }],
  ] as const)('reads %s pages with %s exactly', (codec, _label, repeats, encodings) => {
    const s = sample(repeats ? 3 : 5, repeats);
    const got = decodeAll(write(s, codec, encodings as Partial<Record<string, Encoding>>));
    expect(got.t).toEqual(s.micros);
    expect(got.p).toEqual(s.prices.map((v) => (v === null ? null : bytesOfUnscaled(v))));
    expect(got.s).toEqual(s.strings);
    expect(got.id).toEqual(s.ids);
  });

  it('keeps DECIMAL(38,18) values in limbs that order as the values do', () => {
    const values = [0n, 1n, 2n ** 43n - 1n, 2n ** 43n, 2n ** 86n, 10n ** 38n - 1n, 97123450000000000000000n];
    const s: Sample = { micros: [], prices: [], strings: [], ids: [] };
    values.forEach((v, i) => {
      s.micros.push(0n);
      s.prices.push(v);
      s.strings.push('ok');
      s.ids.push(String(i));
    });
    const file = write(s, 'UNCOMPRESSED', { p: 'PLAIN' });
    const metadata = parquetMetadata(file);
    const meta = metadata.row_groups[0]!.columns[1]!.meta_data!;
    const { start, end } = chunkRange(meta);
    const d = new SilverColumnDecoder('p', 'decimal16').decode(
      new Uint8Array(file, start, end - start),
      meta,
      metadata.schema[2]!,
      values.length,
    );
    values.forEach((v, i) => {
      expect([d.limbs.hi[i], d.limbs.mid[i], d.limbs.lo[i]]).toEqual(limbsOfUnscaled(v));
    });
  });

  it('refuses a negative DECIMAL and a time past 2^53 micros, naming the column', () => {
    const negative: Sample = { micros: [0n], prices: [-5n & ((1n << 128n) - 1n)], strings: ['ok'], ids: ['a'] };
    const late: Sample = { micros: [2n ** 60n], prices: [1n], strings: ['ok'], ids: ['a'] };
    for (const [s, column, message] of [
      [negative, 'p', /p: a negative DECIMAL/],
      [late, 't', /t: a time beyond 2\^53/],
    ] as const) {
      const file = write(s, 'UNCOMPRESSED', { t: 'PLAIN', p: 'PLAIN' });
      const metadata = parquetMetadata(file);
      const index = column === 't' ? 0 : 1;
      const meta = metadata.row_groups[0]!.columns[index]!.meta_data!;
      const { start, end } = chunkRange(meta);
      const decode = () =>
        new SilverColumnDecoder(column, KIND[column]!).decode(
          new Uint8Array(file, start, end - start),
          meta,
          metadata.schema[index + 1]!,
          1,
        );
      expect(decode).toThrow(SilverColumnError);
      expect(decode).toThrow(message);
    }
  });

  it('leaves to the general reader what it does not decode', () => {
    const s = sample(9, false);
    const file = write(s, 'SNAPPY', { s: 'DELTA_BYTE_ARRAY', id: 'DELTA_LENGTH_BYTE_ARRAY' });
    const metadata = parquetMetadata(file);
    const [t, p, str, id] = metadata.row_groups[0]!.columns.map((c) => c.meta_data!);
    expect(typedChunkSupported(t, metadata.schema[1], 'int64')).toBe(true);
    expect(typedChunkSupported(p, metadata.schema[2], 'decimal16')).toBe(true);
    expect(typedChunkSupported(str, metadata.schema[3], 'string-codes')).toBe(false);
    expect(typedChunkSupported(id, metadata.schema[4], 'string-values')).toBe(false);
    // and a column of another physical type than the kind asked for
    expect(typedChunkSupported(t, metadata.schema[1], 'decimal16')).toBe(false);
  });
});
