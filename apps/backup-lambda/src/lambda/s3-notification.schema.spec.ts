import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, s3NotificationBody } from '../__fixtures__/event.factories';
import { InvalidNotificationError } from '../core/backup.errors';
import { parseS3Notification } from './s3-notification.schema';

describe('parseS3Notification', () => {
  it('reads the documented ObjectCreated:Put body, decoding "+" in the key to a space', () => {
    const parsed = parseS3Notification(fixture('s3-notification.put.json'));
    expect(parsed).toEqual({
      kind: 'records',
      skipped: [],
      created: [
        {
          bucket: 'btc-etl-raw',
          key: 'raw/2026/11/27/19/red flower.json',
          size: 1024,
          etag: 'd41d8cd98f00b204e9800998ecf8427e',
          eventName: 'ObjectCreated:Put',
          eventTime: '2026-11-27T19:53:17.421Z',
          sequencer: '0055AED6DCD90281E5',
        },
      ],
    });
  });

  it('handles every entry of Records: ObjectCreated of any kind kept, others skipped, quoted ETags unquoted', () => {
    const parsed = parseS3Notification(fixture('s3-notification.mixed.json'));
    if (parsed.kind !== 'records') throw new Error('expected records');
    expect(parsed.created.map((c) => [c.eventName, c.key, c.etag])).toEqual([
      [
        'ObjectCreated:CompleteMultipartUpload',
        'raw/2026/11/27/19/btc-etl-ticks-1-2026-11-27-19-48-02-8c4e1c1e-3b8a-4f7e-9a50-1f0e2d3c4b5a',
        'b54357faf0632cce46e942fa68356b38-2',
      ],
      ['ObjectCreated:Copy', 'raw/2026/11/27/19/₿ price+1 100%.json', '0cc175b9c0f1b6a831c399e269772661'],
    ]);
    expect(parsed.skipped).toEqual([
      { eventName: 'ObjectRemoved:Delete', bucket: 'btc-etl-raw', key: 'raw/2026/11/27/19/old.json' },
    ]);
  });

  it("reads moto's form: quote_plus keys (even '/' as %2F) and an eventTime without a zone", () => {
    const parsed = parseS3Notification(fixture('s3-notification.moto.json'));
    if (parsed.kind !== 'records') throw new Error('expected records');
    expect(parsed.created[0]?.key).toBe('raw/2026/11/27/21/a b+% ü.json');
  });

  it('recognises the s3:TestEvent sent when notifications are configured', () => {
    expect(parseS3Notification(fixture('s3-test-event.json'))).toEqual({ kind: 'test-event', bucket: 'btc-etl-raw' });
  });

  it.each([
    'raw/2026/11/27/19/plain.json',
    'raw/with space/and+plus/100% sure/ünïcödé ₿ 日本.json',
    'raw/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/deep.json',
    "raw/odd chars !'()*~&=?#;,:@$.json",
  ])('round-trips the key %j through S3 event encoding', (key) => {
    const parsed = parseS3Notification(s3NotificationBody({ key, size: 1, etag: 'abc' }));
    if (parsed.kind !== 'records') throw new Error('expected records');
    expect(parsed.created[0]?.key).toBe(key);
  });

  const notOk = readdirSync(join(import.meta.dirname, '../__fixtures__/not-ok'));
  it.each(notOk)('rejects not-ok/%s with an InvalidNotificationError that quotes the body', (name) => {
    const body = fixture(`not-ok/${name}`);
    let caught: unknown;
    try {
      parseS3Notification(body);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidNotificationError);
    const excerpt = body.length > 500 ? `${body.slice(0, 500)}…` : body;
    expect((caught as InvalidNotificationError).bodyExcerpt).toBe(excerpt);
  });

  it('names what was wrong', () => {
    expect(() => parseS3Notification(fixture('not-ok/created-without-etag.json'))).toThrow(
      /Records\.0: an ObjectCreated event without eTag or size/,
    );
    expect(() => parseS3Notification(fixture('not-ok/malformed-key-escape.json'))).toThrow(
      /malformed key encoding "raw\/2026\/%E0%A4%A.json"/,
    );
    expect(() => parseS3Notification(fixture('not-ok/missing-bucket.json'))).toThrow(/Records\.0\.s3\.bucket/);
    expect(() => parseS3Notification(fixture('not-ok/not-json.txt'))).toThrow(/body is not JSON/);
  });
});
