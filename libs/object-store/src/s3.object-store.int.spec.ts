import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { catchError } from '@btc-etl/testing';
import {
  ObjectNotFoundError,
  ObjectStoreConfigError,
  ObjectStoreError,
  PreconditionFailedError,
} from './object-store.errors';
import { S3ObjectStore } from './s3.object-store';

/**
 * S3 answers that moto cannot give (it ignores CopySourceIfMatch and never fails a copy), served by a local
 * node:http server speaking S3's REST/XML so the real SDK parses them: a 200 whose body is an <Error>, a 412,
 * a part that fails mid-way through a multipart copy.
 */
const MiB = 1024 * 1024;
const SOURCE_ETAG = '0123456789abcdef0123456789abcdef';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Handler = (req: Seen, res: ServerResponse) => void | Promise<void>;

let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolveClose) => (server ? server.close(() => resolveClose()) : resolveClose()));
  server = undefined;
});

async function fakeS3(handler: Handler): Promise<{ client: S3Client; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const entry = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(entry);
      void Promise.resolve(handler(entry, res)).catch((error: unknown) => {
        res.statusCode = 599;
        res.end(String(error));
      });
    });
  });
  await new Promise<void>((resolveListen) => server?.listen(0, '127.0.0.1', resolveListen));
  const { port } = server.address() as AddressInfo;
  const client = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    // One attempt: the point is how an answer is read, not the SDK's retry policy.
    maxAttempts: 1,
  });
  return { client, seen };
}

function xml(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
}

function s3Error(code: string, message: string): string {
  return `<Error><Code>${code}</Code><Message>${message}</Message><RequestId>r1</RequestId><HostId>h1</HostId></Error>`;
}

function headSource(res: ServerResponse, size: number, etag = SOURCE_ETAG): void {
  res.writeHead(200, {
    'content-length': String(size),
    etag: `"${etag}"`,
    'content-type': 'application/x-ndjson',
    'last-modified': new Date().toUTCString(),
    'x-amz-meta-origin': 'firehose',
  });
  res.end();
}

const isCopy = (req: Seen) => req.method === 'PUT' && req.headers['x-amz-copy-source'] !== undefined;
const isPartCopy = (req: Seen) => isCopy(req) && req.url.includes('partNumber=');
const src = { bucket: 'raw-bucket', key: 'raw/2026/11/27/19/a b+c.json' };
const dst = { bucket: 'backup-bucket', key: 'raw/2026/11/27/19/a b+c.json' };
/** S3's answer when a copy's CopySourceIfMatch no longer holds. */
const preconditionFailed = (res: ServerResponse) =>
  xml(res, 412, s3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold'));
/** What a refused copy of `src` reports when the source changed to ETag ffff... since the caller saw it. */
const sourceChanged = {
  expectedEtag: SOURCE_ETAG,
  actualEtag: 'ffffffffffffffffffffffffffffffff',
  bucket: src.bucket,
  key: src.key,
};

describe('S3ObjectStore.copy against S3 answers moto cannot give', () => {
  it('treats a 200 OK whose body is an <Error> as a failed copy', async () => {
    const { client } = await fakeS3((req, res) => {
      if (req.method === 'HEAD') return headSource(res, 100);
      if (isCopy(req))
        return xml(res, 200, s3Error('InternalError', 'We encountered an internal error. Please try again.'));
      return xml(res, 400, s3Error('Unexpected', req.url));
    });
    const store = new S3ObjectStore({ client });

    const error = await catchError(() => store.copy(src, dst), ObjectStoreError);
    expect(error).not.toBeInstanceOf(ObjectNotFoundError);
    expect(error.message).toMatch(/InternalError/);
    expect(error).toMatchObject({ operation: 'copy', bucket: dst.bucket, key: dst.key });
  });

  it('rejects a 200 CopyObject answer that carries no ETag', async () => {
    const { client } = await fakeS3((req, res) => {
      if (req.method === 'HEAD') return headSource(res, 100);
      return xml(
        res,
        200,
        '<CopyObjectResult><LastModified>2026-11-27T19:00:00.000Z</LastModified></CopyObjectResult>',
      );
    });

    await expect(new S3ObjectStore({ client }).copy(src, dst)).rejects.toThrow(/CopyObject answered without an ETag/);
  });

  it(
    'sends CopySourceIfMatch and the encoded source, ' + 'MetadataDirective COPY, and returns the ETag unquoted',
    async () => {
      const { client, seen } = await fakeS3((req, res) => {
        if (req.method === 'HEAD') return headSource(res, 100);
        return xml(
          res,
          200,
          `<CopyObjectResult><ETag>"${SOURCE_ETAG}"</ETag><LastModified>2026-11-27T19:00:00.000Z</LastModified>` +
            `</CopyObjectResult>`,
        );
      });

      const result = await new S3ObjectStore({ client }).copy(src, dst, { ifSourceEtag: SOURCE_ETAG });

      expect(result).toEqual({ etag: SOURCE_ETAG });
      const copy = seen.find(isCopy);
      expect(copy?.headers['x-amz-copy-source-if-match']).toBe(`"${SOURCE_ETAG}"`);
      expect(copy?.headers['x-amz-metadata-directive']).toBe('COPY');
      expect(decodeURIComponent(String(copy?.headers['x-amz-copy-source']))).toBe(`${src.bucket}/${src.key}`);
      expect(String(copy?.headers['x-amz-copy-source'])).toContain('a%20b%2Bc.json');
    },
  );

  it('maps a 412 from S3 (source changed after the head) to PreconditionFailedError with the new ETag', async () => {
    let heads = 0;
    const { client } = await fakeS3((req, res) => {
      if (req.method === 'HEAD')
        return headSource(res, 100, heads++ === 0 ? SOURCE_ETAG : 'ffffffffffffffffffffffffffffffff');
      return preconditionFailed(res);
    });

    const error = await catchError(
      () => new S3ObjectStore({ client }).copy(src, dst, { ifSourceEtag: `"${SOURCE_ETAG}"` }),
      PreconditionFailedError,
    );
    expect(error).toMatchObject(sourceChanged);
  });
});

describe('S3ObjectStore.copy with trustServerConditions (AWS: S3 enforces CopySourceIfMatch)', () => {
  const copied = (res: ServerResponse) =>
    xml(
      res,
      200,
      `<CopyObjectResult><ETag>"${SOURCE_ETAG}"</ETag><LastModified>2026-11-27T19:00:00.000Z</LastModified>` +
        `</CopyObjectResult>`,
    );

  it('copies a small source named by ETag and size in one CopyObject, with no HEAD before it', async () => {
    const { client, seen } = await fakeS3((req, res) =>
      isCopy(req) ? copied(res) : xml(res, 400, s3Error('Unexpected', `${req.method} ${req.url}`)),
    );

    const result = await new S3ObjectStore({ client, trustServerConditions: true }).copy(src, dst, {
      ifSourceEtag: SOURCE_ETAG,
      sourceSize: 100,
    });

    expect(result).toEqual({ etag: SOURCE_ETAG });
    expect(seen.map((r) => r.method)).toEqual(['PUT']);
    expect(seen[0]?.headers['x-amz-copy-source-if-match']).toBe(`"${SOURCE_ETAG}"`);
    expect(seen[0]?.headers['x-amz-metadata-directive']).toBe('COPY');
  });

  it("reads S3's 412 as PreconditionFailedError, heading the source only then to name its ETag now", async () => {
    const { client, seen } = await fakeS3((req, res) => {
      if (req.method === 'HEAD') return headSource(res, 100, 'ffffffffffffffffffffffffffffffff');
      return preconditionFailed(res);
    });

    const error = await catchError(
      () =>
        new S3ObjectStore({ client, trustServerConditions: true }).copy(src, dst, {
          ifSourceEtag: SOURCE_ETAG,
          sourceSize: 100,
        }),
      PreconditionFailedError,
    );
    expect(error).toMatchObject(sourceChanged);
    expect(seen.map((r) => r.method)).toEqual(['PUT', 'HEAD']);
  });

  it(
    'maps NoSuchKey to ObjectNotFoundError on the source, ' + 'and NoSuchBucket with the source gone likewise',
    async () => {
      const { client } = await fakeS3((req, res) => {
        if (req.method === 'HEAD') {
          res.writeHead(404);
          return void res.end();
        }
        return xml(res, 404, s3Error(req.url.includes('nokey') ? 'NoSuchKey' : 'NoSuchBucket', 'gone'));
      });
      const store = new S3ObjectStore({ client, trustServerConditions: true });

      const noKey = await catchError(
        () => store.copy(src, { ...dst, key: 'nokey' }, { ifSourceEtag: SOURCE_ETAG, sourceSize: 1 }),
        ObjectNotFoundError,
      );
      const noBucket = await catchError(
        () => store.copy(src, dst, { ifSourceEtag: SOURCE_ETAG, sourceSize: 1 }),
        ObjectNotFoundError,
      );

      for (const error of [noKey, noBucket]) {
        expect(error).toBeInstanceOf(ObjectNotFoundError);
        expect(error).toMatchObject({ bucket: src.bucket, key: src.key, operation: 'copy' });
      }
    },
  );

  it(
    'still heads the source without an ETag, without a size, ' + 'or with a size above the multipart threshold',
    async () => {
      const { client, seen } = await fakeS3((req, res) => (req.method === 'HEAD' ? headSource(res, 40) : copied(res)));
      const store = new S3ObjectStore({ client, trustServerConditions: true, multipartCopyThresholdBytes: 50 });

      await store.copy(src, dst, { sourceSize: 10 });
      await store.copy(src, dst, { ifSourceEtag: SOURCE_ETAG });
      // A hint above the threshold is not acted on either: the head's 40 bytes decide, so it is one CopyObject.
      await store.copy(src, dst, { ifSourceEtag: SOURCE_ETAG, sourceSize: 51 });

      expect(seen.map((r) => r.method)).toEqual(['HEAD', 'PUT', 'HEAD', 'PUT', 'HEAD', 'PUT']);
    },
  );

  it(
    'by default heads the source even with ETag and size, ' +
      'and refuses a stale ETag itself (moto ignores the header)',
    async () => {
      const { client, seen } = await fakeS3((req, res) =>
        req.method === 'HEAD' ? headSource(res, 100, 'ffffffffffffffffffffffffffffffff') : copied(res),
      );

      await catchError(
        () => new S3ObjectStore({ client }).copy(src, dst, { ifSourceEtag: SOURCE_ETAG, sourceSize: 100 }),
        PreconditionFailedError,
      );
      expect(seen.map((r) => r.method)).toEqual(['HEAD']);
    },
  );
});

describe('S3ObjectStore multipart copy', () => {
  const size = 12 * MiB + 5;

  function multipartServer(options: { failPart?: number; failComplete?: boolean }) {
    let inFlight = 0;
    let maxInFlight = 0;
    const handler: Handler = async (req, res) => {
      if (req.method === 'HEAD') return headSource(res, size);
      if (req.method === 'POST' && req.url.includes('uploads')) {
        return xml(
          res,
          200,
          `<InitiateMultipartUploadResult><Bucket>${dst.bucket}</Bucket><Key>k</Key><UploadId>upload-1</UploadId>` +
            `</InitiateMultipartUploadResult>`,
        );
      }
      if (isPartCopy(req)) {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 40));
        inFlight--;
        const part = Number(new URL(req.url, 'http://x').searchParams.get('partNumber'));
        // A 200 with an <Error> body, as S3 documents for UploadPartCopy too.
        if (part === options.failPart) return xml(res, 200, s3Error('SlowDown', 'Please reduce your request rate.'));
        return xml(
          res,
          200,
          `<CopyPartResult><ETag>"part-${part}"</ETag><LastModified>2026-11-27T19:00:00.000Z</LastModified>` +
            `</CopyPartResult>`,
        );
      }
      if (req.method === 'POST' && req.url.includes('uploadId=')) {
        if (options.failComplete) return xml(res, 200, s3Error('InternalError', 'complete failed'));
        return xml(
          res,
          200,
          `<CompleteMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>` +
            `<ETag>"deadbeefdeadbeefdeadbeefdeadbeef-3"</ETag></CompleteMultipartUploadResult>`,
        );
      }
      if (req.method === 'DELETE' && req.url.includes('uploadId=')) {
        res.writeHead(204);
        return void res.end();
      }
      return xml(res, 400, s3Error('Unexpected', `${req.method} ${req.url}`));
    };
    return { handler, maxInFlight: () => maxInFlight };
  }

  const options = { multipartCopyThresholdBytes: MiB, multipartPartSizeBytes: 5 * MiB, copyConcurrency: 2 };

  it(
    'copies byte ranges in parallel (bounded), ' + 'each pinned to the source ETag, and completes in part order',
    async () => {
      const fake = multipartServer({});
      const { client, seen } = await fakeS3(fake.handler);

      const result = await new S3ObjectStore({ client, ...options }).copy(src, dst);

      expect(result).toEqual({ etag: 'deadbeefdeadbeefdeadbeefdeadbeef-3' });
      const parts = seen.filter(isPartCopy);
      expect(parts.map((p) => p.headers['x-amz-copy-source-range']).sort()).toEqual([
        `bytes=0-${5 * MiB - 1}`,
        `bytes=${10 * MiB}-${size - 1}`,
        `bytes=${5 * MiB}-${10 * MiB - 1}`,
      ]);
      expect(new Set(parts.map((p) => p.headers['x-amz-copy-source-if-match']))).toEqual(new Set([`"${SOURCE_ETAG}"`]));
      expect(fake.maxInFlight()).toBe(2);
      const create = seen.find((r) => r.method === 'POST' && r.url.includes('uploads'));
      expect(create?.headers['content-type']).toBe('application/x-ndjson');
      expect(create?.headers['x-amz-meta-origin']).toBe('firehose');
      const complete = seen.find((r) => r.method === 'POST' && r.url.includes('uploadId='));
      expect([...(complete?.body ?? '').matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) => m[1])).toEqual([
        '1',
        '2',
        '3',
      ]);
      expect(seen.some((r) => r.method === 'DELETE')).toBe(false);
    },
  );

  it('aborts the upload when a part fails (even with a 200) and starts no further parts', async () => {
    const fake = multipartServer({ failPart: 1 });
    const { client, seen } = await fakeS3(fake.handler);

    const error = await catchError(
      () => new S3ObjectStore({ client, ...options, copyConcurrency: 1 }).copy(src, dst),
      ObjectStoreError,
    );
    expect(error.message).toMatch(/SlowDown/);
    expect(seen.filter(isPartCopy)).toHaveLength(1);
    expect(seen.some((r) => r.method === 'POST' && r.url.includes('uploadId='))).toBe(false);
    const abort = seen.find((r) => r.method === 'DELETE');
    expect(abort?.url).toContain('uploadId=upload-1');
  });

  it('aborts the upload when CompleteMultipartUpload answers 200 with an error', async () => {
    const { client, seen } = await fakeS3(multipartServer({ failComplete: true }).handler);

    await expect(new S3ObjectStore({ client, ...options }).copy(src, dst)).rejects.toThrow(/complete failed/);

    expect(seen.filter((r) => r.method === 'DELETE')).toHaveLength(1);
  });
});

describe('S3ObjectStore options', () => {
  it('refuses part sizes under 5 MiB and a concurrency under 1, naming the option', () => {
    const client = new S3Client({ region: 'us-east-1' });

    expect(() => new S3ObjectStore({ client, multipartPartSizeBytes: MiB })).toThrow(ObjectStoreConfigError);
    expect(() => new S3ObjectStore({ client, uploadPartSizeBytes: 100 })).toThrow(/uploadPartSizeBytes/);
    expect(() => new S3ObjectStore({ client, copyConcurrency: 0 })).toThrow(
      /copyConcurrency must be an integer >= 1, got 0/,
    );
  });
});
