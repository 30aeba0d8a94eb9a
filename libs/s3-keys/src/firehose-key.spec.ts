import { describe, expect, it } from 'vitest';
import { S3KeyError, buildFirehoseKey, hourlyPrefixes, parseDatehour, parseFirehoseKey, toDatehour } from './index';

const uuid = '1b4e28ba-2fa1-11d2-883f-0016d3cca427';

describe('Firehose keys', () => {
  it('builds the default layout in UTC from the arrival time', () => {
    const key = buildFirehoseKey({ streamName: 'btc-etl-ticks', arrival: new Date('2026-11-27T19:53:05.999Z'), uuid });
    expect(key).toBe(`raw/2026/11/27/19/btc-etl-ticks-1-2026-11-27-19-53-05-${uuid}`);
  });

  it('uses UTC even across a local date line, and pads every field', () => {
    const key = buildFirehoseKey({
      prefix: '',
      streamName: 's',
      version: 3,
      arrival: new Date('2027-01-01T00:00:00+05:00'),
      uuid,
      extension: 'parquet',
    });
    expect(key).toBe(`2026/12/31/19/s-3-2026-12-31-19-00-00-${uuid}.parquet`);
  });

  it('round-trips through parse', () => {
    const arrival = new Date('2026-02-28T23:59:59Z');
    const key = buildFirehoseKey({ streamName: 'my.stream_1', arrival, uuid, extension: 'gz' });
    expect(parseFirehoseKey(key)).toEqual({
      prefix: 'raw/',
      streamName: 'my.stream_1',
      version: 1,
      arrival,
      uuid,
      extension: 'gz',
      datehour: '2026/02/28/23',
    });
  });

  it('parses a stream name that contains dashes and digits', () => {
    const parsed = parseFirehoseKey(`raw/2026/11/27/19/btc-etl-ticks-2-1-2026-11-27-19-53-05-${uuid}`);
    expect(parsed.streamName).toBe('btc-etl-ticks-2');
    expect(parsed.version).toBe(1);
  });

  it.each([
    ['not a key', 'hello.json'],
    ['no uuid', 'raw/2026/11/27/19/s-1-2026-11-27-19-53-05'],
    ['folders and file disagree', `raw/2026/11/27/18/s-1-2026-11-27-19-53-05-${uuid}`],
    ['impossible date', `raw/2026/02/30/19/s-1-2026-02-30-19-53-05-${uuid}`],
    ['minute 61', `raw/2026/11/27/19/s-1-2026-11-27-19-61-05-${uuid}`],
    ['prefix without slash', `raw2026/11/27/19/s-1-2026-11-27-19-53-05-${uuid}`],
  ])('rejects %s with an S3KeyError naming the key', (_why, key) => {
    expect(() => parseFirehoseKey(key)).toThrowError(S3KeyError);
    expect(() => parseFirehoseKey(key)).toThrow(key.slice(0, 10));
  });

  it.each([
    [{ prefix: 'raw' }, 'must end in "/"'],
    [{ streamName: 'bad name' }, 'stream name'],
    [{ version: 0 }, 'version'],
    [{ uuid: 'x' }, 'UUID'],
    [{ extension: '../x' }, 'extension'],
  ])('refuses to build from bad parts %o', (override, message) => {
    expect(() => buildFirehoseKey({ streamName: 's', arrival: new Date(), uuid, ...override })).toThrow(message);
  });

  it('refuses an invalid Date', () => {
    expect(() => buildFirehoseKey({ streamName: 's', arrival: new Date('nope') })).toThrow(/valid Date/);
  });
});

describe('datehour', () => {
  it('formats and parses the Athena partition value', () => {
    expect(toDatehour(new Date('2026-11-27T09:59:59.999Z'))).toBe('2026/11/27/09');
    expect(parseDatehour('2026/11/27/09').toISOString()).toBe('2026-11-27T09:00:00.000Z');
  });
  it.each(['2026/11/27', '2026/13/01/00', '2026/02/29/00', '2026/11/27/24', '2026-11-27-09'])('rejects %s', (v) => {
    expect(() => parseDatehour(v)).toThrowError(S3KeyError);
  });
});

describe('hourlyPrefixes', () => {
  it('covers both end hours', () => {
    expect(hourlyPrefixes('raw/', new Date('2026-11-27T22:30:00Z'), new Date('2026-11-28T01:00:00Z'))).toEqual([
      'raw/2026/11/27/22/',
      'raw/2026/11/27/23/',
      'raw/2026/11/28/00/',
      'raw/2026/11/28/01/',
    ]);
  });
  it('gives one prefix for a range inside one hour', () => {
    expect(hourlyPrefixes('', new Date('2026-11-27T22:01:00Z'), new Date('2026-11-27T22:59:59Z'))).toEqual([
      '2026/11/27/22/',
    ]);
  });
  it('crosses month and leap-day boundaries', () => {
    const out = hourlyPrefixes('raw/', new Date('2028-02-29T23:00:00Z'), new Date('2028-03-01T00:00:00Z'));
    expect(out).toEqual(['raw/2028/02/29/23/', 'raw/2028/03/01/00/']);
  });
  it('rejects a reversed range and one too large', () => {
    expect(() => hourlyPrefixes('raw/', new Date('2026-11-28T00:00Z'), new Date('2026-11-27T00:00Z'))).toThrow(/after/);
    expect(() =>
      hourlyPrefixes('raw/', new Date('2026-01-01T00:00Z'), new Date('2026-01-03T00:00Z'), { maxHours: 24 }),
    ).toThrow(/49 hours/);
  });
});
