import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCopyCommand,
  type ChecksumAlgorithm,
  type CompletedPart,
  type UploadPartCopyCommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { checkPutConditions, checkSourceSize, isStreamBody, listAllPages, pageSize } from './object-store.shared';
import {
  BucketNotFoundError,
  ObjectNotFoundError,
  ObjectStoreConfigError,
  ObjectStoreError,
  PreconditionFailedError,
  type ObjectStoreOperation,
} from './object-store.errors';
import type {
  Body,
  CopyOptions,
  ListOptions,
  ListPage,
  ObjectInfo,
  ObjectRef,
  ObjectStore,
  PutOptions,
} from './object-store.port';
import {
  checkSize,
  DEFAULT_COPY_CONCURRENCY,
  DEFAULT_MULTIPART_COPY_THRESHOLD,
  DEFAULT_MULTIPART_PART_SIZE,
  DEFAULT_UPLOAD_PART_SIZE,
  effectivePartSize,
  planParts,
  quoteEtag,
  S3_MIN_PART_SIZE,
  unquoteEtag,
  type PartRange,
} from './s3-etag';

export interface S3ObjectStoreOptions {
  /** An S3 client to use. Default: `new S3Client({ forcePathStyle })` from the SDK's default chain (region,
   *  credentials, and `AWS_ENDPOINT_URL`, which the SDK reads itself). */
  client?: S3Client;
  /** Path-style URLs for the default client; moto and most S3 look-alikes need `true`. Ignored with `client`. */
  forcePathStyle?: boolean;
  /** Copies of more bytes than this use multipart UploadPartCopy. Default 5 GiB (CopyObject's own limit). */
  multipartCopyThresholdBytes?: number;
  /** Part size of multipart copies, at least 5 MiB; raised (to whole MiB) past 10,000 parts. Default 64 MiB. */
  multipartPartSizeBytes?: number;
  /** Parts copied at once in a multipart copy. Default 4. */
  copyConcurrency?: number;
  /** Part size of streamed uploads (lib-storage `Upload`), at least 5 MiB. Default 5 MiB. */
  uploadPartSizeBytes?: number;
  /**
   * Whether the server enforces `CopySourceIfMatch` itself. AWS S3 does; moto 5.2.1 ignores it, and other S3
   * look-alikes may too. When true, a copy given `ifSourceEtag` and a `sourceSize` at or below the multipart
   * threshold is a single CopyObject: the server's 412 is the ETag check, and the version the ETag names has the
   * size the caller gave, so no HEAD is needed to choose CopyObject over multipart. Default false: the source is
   * read first and the ETag compared here (correct on every backend, one request more per copy).
   */
  trustServerConditions?: boolean;
  /**
   * The checksum every write asks S3 to store with the object (PutObject, streamed uploads, CopyObject, multipart
   * copies). Default `SHA256`. A bucket under Object Lock with a default retention refuses a write that carries
   * neither Content-MD5 nor an SDK checksum, so the adapter never leaves it to the SDK's
   * `requestChecksumCalculation` setting; the stored checksum also lets a backup be verified without reading it.
   */
  checksumAlgorithm?: ChecksumAlgorithm;
  /**
   * The 12-digit account id that must own every bucket this store touches. Sent as `ExpectedBucketOwner` on every
   * call (and `ExpectedSourceBucketOwner` on copies), so S3 answers 403 instead of reading from or writing to a
   * bucket of the same name in someone else's account. Unset: no check.
   */
  expectedBucketOwner?: string;
}

/** The MD5 of the empty request body a CopyObject sends (base64): see `withEmptyBodyMd5`. */
const EMPTY_BODY_MD5 = '1B2M2Y8AsgTpgAmY7PhCfg==';

/**
 * CopyObject has no body, so the SDK computes no checksum for it, and its `ChecksumAlgorithm` travels as
 * `x-amz-checksum-algorithm` (the new object's checksum), not as the request's own. moto 5.2.1 still wants
 * Content-MD5 or `x-amz-sdk-checksum-algorithm` on a copy into a bucket with a default retention
 * (MissingUploadObjectWithObjectLockHeaders). A Content-MD5 of the empty body is true of the request as sent, so it
 * satisfies that check and any server that verifies it; AWS documents the header as required only for uploads.
 */
function withEmptyBodyMd5<C extends CopyObjectCommand>(command: C): C {
  command.middlewareStack.add(
    (next) => (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers['content-md5'] = EMPTY_BODY_MD5;
      return next(args);
    },
    { step: 'build', name: 'btcEtlEmptyBodyMd5' },
  );
  return command;
}

/** The part checksums S3 returns from UploadPartCopy, which CompleteMultipartUpload must repeat. */
function partChecksums(result: NonNullable<UploadPartCopyCommandOutput['CopyPartResult']>): Partial<CompletedPart> {
  const out: Partial<CompletedPart> = {};
  if (result.ChecksumCRC32) out.ChecksumCRC32 = result.ChecksumCRC32;
  if (result.ChecksumCRC32C) out.ChecksumCRC32C = result.ChecksumCRC32C;
  if (result.ChecksumCRC64NVME) out.ChecksumCRC64NVME = result.ChecksumCRC64NVME;
  if (result.ChecksumSHA1) out.ChecksumSHA1 = result.ChecksumSHA1;
  if (result.ChecksumSHA256) out.ChecksumSHA256 = result.ChecksumSHA256;
  return out;
}

interface SdkError {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** `x-amz-copy-source`: bucket and key, URL-encoded segment by segment (so `+`, `%`, spaces and unicode survive). */
function copySource(ref: ObjectRef): string {
  return `${encodeURIComponent(ref.bucket)}/${ref.key.split('/').map(encodeURIComponent).join('/')}`;
}

/** Run `task` over `items`, at most `limit` at a time; after the first failure no new item starts. */
async function mapLimit<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const index = next++;
      try {
        results[index] = await task(items[index] as T);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
  return results;
}

/**
 * The S3 adapter (AWS, or moto in tests). ETags come back unquoted; 404s become `ObjectNotFoundError`
 * (`BucketNotFoundError` for a missing bucket), 412s `PreconditionFailedError`; anything else an `ObjectStoreError`
 * with the SDK error as `cause`. A copy heads its source first: that gives the size (CopyObject stops at 5 GiB) and
 * checks `ifSourceEtag` even where the server ignores `CopySourceIfMatch` (moto 5.2 does), while the header is still
 * sent so that S3 itself refuses a source that changes between the head and the copy. With `trustServerConditions`
 * (for AWS) a copy that names the ETag and the size of a small source skips that head: one request instead of two.
 */
export class S3ObjectStore implements ObjectStore {
  readonly client: S3Client;
  private readonly copyThreshold: number;
  private readonly copyPartSize: number;
  private readonly copyConcurrency: number;
  private readonly uploadPartSize: number;
  private readonly trustServerConditions: boolean;
  private readonly checksumAlgorithm: ChecksumAlgorithm;
  /** Spread into every command: `{}` or `{ ExpectedBucketOwner }`. */
  private readonly owner: { ExpectedBucketOwner?: string };
  /** Spread into copies: `{}` or `{ ExpectedSourceBucketOwner }`. */
  private readonly sourceOwner: { ExpectedSourceBucketOwner?: string };

  constructor(options: S3ObjectStoreOptions = {}) {
    this.client = options.client ?? new S3Client({ forcePathStyle: options.forcePathStyle ?? false });
    this.copyThreshold = checkSize(
      'multipartCopyThresholdBytes',
      options.multipartCopyThresholdBytes,
      DEFAULT_MULTIPART_COPY_THRESHOLD,
      0,
    );
    this.copyPartSize = checkSize(
      'multipartPartSizeBytes',
      options.multipartPartSizeBytes,
      DEFAULT_MULTIPART_PART_SIZE,
      S3_MIN_PART_SIZE,
    );
    this.copyConcurrency = checkSize('copyConcurrency', options.copyConcurrency, DEFAULT_COPY_CONCURRENCY, 1);
    this.uploadPartSize = checkSize(
      'uploadPartSizeBytes',
      options.uploadPartSizeBytes,
      DEFAULT_UPLOAD_PART_SIZE,
      S3_MIN_PART_SIZE,
    );
    this.trustServerConditions = options.trustServerConditions ?? false;
    this.checksumAlgorithm = options.checksumAlgorithm ?? 'SHA256';
    const owner = options.expectedBucketOwner;
    if (owner !== undefined && !/^\d{12}$/.test(owner)) {
      throw new ObjectStoreConfigError(
        'expectedBucketOwner',
        `must be a 12-digit AWS account id, got ${JSON.stringify(owner)}`,
      );
    }
    this.owner = owner === undefined ? {} : { ExpectedBucketOwner: owner };
    this.sourceOwner = owner === undefined ? {} : { ExpectedSourceBucketOwner: owner };
  }

  async put(bucket: string, key: string, body: Body, options: PutOptions = {}): Promise<{ etag: string }> {
    const params = {
      Bucket: bucket,
      Key: key,
      ContentType: options.contentType,
      Metadata: options.metadata,
      ChecksumAlgorithm: this.checksumAlgorithm,
      ...this.owner,
    };
    checkPutConditions(bucket, key, body, options);
    const conditions = {
      ...(options.ifNoneMatch ? { IfNoneMatch: options.ifNoneMatch } : {}),
      ...(options.ifMatch ? { IfMatch: quoteEtag(options.ifMatch) } : {}),
    };
    try {
      if (isStreamBody(body)) {
        // lib-storage sends one PutObject when the stream fits in a part, else a multipart upload it aborts on error.
        const upload = new Upload({
          client: this.client,
          params: { ...params, Body: body },
          partSize: this.uploadPartSize,
          leavePartsOnError: false,
        });
        const done = await upload.done();
        return { etag: this.requireEtag('put', bucket, key, done.ETag, 'Upload') };
      }
      const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      const res = await this.client.send(new PutObjectCommand({ ...params, ...conditions, Body: bytes }));
      return { etag: this.requireEtag('put', bucket, key, res.ETag, 'PutObject') };
    } catch (error) {
      const { name, status } = this.describe(error);
      // 409 ConditionalRequestConflict: another conditional write to the key was in flight; the caller re-reads.
      // an If-Match put on a missing key answers 404 NoSuchKey: the version it names is not there either
      const missing = options.ifMatch !== undefined && (status === 404 || name === 'NoSuchKey');
      if (status === 412 || name === 'PreconditionFailed' || name === 'ConditionalRequestConflict' || missing) {
        const expected = options.ifNoneMatch ?? unquoteEtag(options.ifMatch ?? '');
        throw new PreconditionFailedError('put', bucket, key, expected, undefined, { cause: error });
      }
      throw this.mapError(error, 'put', bucket, key);
    }
  }

  async get(bucket: string, key: string): Promise<{ body: Uint8Array; info: ObjectInfo }> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...this.owner }));
      if (!res.Body) throw new ObjectStoreError('get', bucket, key, 'GetObject answered without a body');
      const body = await res.Body.transformToByteArray();
      return { body, info: this.info(bucket, key, { ...res, ContentLength: res.ContentLength ?? body.byteLength }) };
    } catch (error) {
      throw this.mapError(error, 'get', bucket, key);
    }
  }

  async getStream(bucket: string, key: string): Promise<{ stream: Readable; info: ObjectInfo }> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...this.owner }));
      if (!(res.Body instanceof Readable)) {
        throw new ObjectStoreError('getStream', bucket, key, 'GetObject body is not a Node.js stream');
      }
      return { stream: res.Body, info: this.info(bucket, key, res) };
    } catch (error) {
      throw this.mapError(error, 'getStream', bucket, key);
    }
  }

  /** The response's own chunks: the SDK allocates one per socket read anyway, nothing to reuse. */
  async getChunks(bucket: string, key: string): Promise<{ chunks: AsyncIterable<Uint8Array>; info: ObjectInfo }> {
    const { stream, info } = await this.getStream(bucket, key);
    return { chunks: stream, info };
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    return this.headAs('head', bucket, key);
  }

  async copy(source: ObjectRef, destination: ObjectRef, options: CopyOptions = {}): Promise<{ etag: string }> {
    const expected = options.ifSourceEtag === undefined ? undefined : unquoteEtag(options.ifSourceEtag);
    const sourceSize = checkSourceSize(source, options);
    // The size hint is only as good as the version it belongs to: without an ETag the server pins, the source could
    // have grown past the threshold since, so both are needed (and a server that really checks the ETag).
    if (
      this.trustServerConditions &&
      expected !== undefined &&
      sourceSize !== undefined &&
      !this.isMultipart(sourceSize)
    ) {
      return this.singleCopy(source, destination, expected, expected);
    }
    const sourceInfo = await this.headAs('copy', source.bucket, source.key);
    if (!sourceInfo) throw new ObjectNotFoundError('copy', source.bucket, source.key);
    if (expected !== undefined && expected !== sourceInfo.etag) {
      throw new PreconditionFailedError('copy', source.bucket, source.key, expected, sourceInfo.etag);
    }
    if (this.isMultipart(sourceInfo.size)) {
      return this.multipartCopy(source, destination, sourceInfo, expected);
    }
    return this.singleCopy(source, destination, expected, expected ?? sourceInfo.etag);
  }

  private isMultipart(size: number): boolean {
    return size > this.copyThreshold && size > 0;
  }

  /** One CopyObject (metadata copied by the server), pinned to `expected` when given. */
  private async singleCopy(
    source: ObjectRef,
    destination: ObjectRef,
    expected: string | undefined,
    blameEtag: string,
  ): Promise<{ etag: string }> {
    try {
      const res = await this.client.send(
        withEmptyBodyMd5(
          new CopyObjectCommand({
            Bucket: destination.bucket,
            Key: destination.key,
            CopySource: copySource(source),
            MetadataDirective: 'COPY',
            CopySourceIfMatch: expected === undefined ? undefined : quoteEtag(expected),
            ChecksumAlgorithm: this.checksumAlgorithm,
            ...this.owner,
            ...this.sourceOwner,
          }),
        ),
      );
      // The SDK turns a 200 carrying an <Error> body into a thrown error;
      // a result without an ETag is no success either.
      return {
        etag: this.requireEtag('copy', destination.bucket, destination.key, res.CopyObjectResult?.ETag, 'CopyObject'),
      };
    } catch (error) {
      throw await this.copyError(error, source, destination, blameEtag);
    }
  }

  async list(bucket: string, options: ListOptions = {}): Promise<ListPage> {
    const maxKeys = pageSize(bucket, options);
    try {
      const res = await this.client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: options.prefix || undefined,
          MaxKeys: maxKeys,
          ContinuationToken: options.continuationToken,
          StartAfter: options.startAfter,
          ...this.owner,
        }),
      );
      const objects = (res.Contents ?? []).map(
        (item): ObjectInfo => ({
          bucket,
          key: item.Key ?? '',
          size: item.Size ?? 0,
          etag: unquoteEtag(item.ETag ?? ''),
          lastModified: item.LastModified ?? new Date(0),
          metadata: {},
        }),
      );
      return res.IsTruncated && res.NextContinuationToken
        ? { objects, nextContinuationToken: res.NextContinuationToken }
        : { objects };
    } catch (error) {
      throw this.mapError(error, 'list', bucket, undefined);
    }
  }

  listAll(bucket: string, prefix?: string): AsyncIterable<ObjectInfo> {
    return listAllPages((options) => this.list(bucket, options), prefix);
  }

  async delete(bucket: string, key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, ...this.owner }));
    } catch (error) {
      const mapped = this.mapError(error, 'delete', bucket, key);
      // S3 answers 204 for a missing key; a 404 here could only be a missing key on a look-alike: not an error.
      if (mapped instanceof ObjectNotFoundError) return;
      throw mapped;
    }
  }

  /**
   * CreateMultipartUpload with the source's content type and metadata, UploadPartCopy per range (each pinned to the
   * source ETag, so all parts come from one version), CompleteMultipartUpload; aborted on any failure so no
   * orphaned parts keep costing storage.
   */
  private async multipartCopy(
    source: ObjectRef,
    destination: ObjectRef,
    sourceInfo: ObjectInfo,
    expected: string | undefined,
  ): Promise<{ etag: string }> {
    const pinnedEtag = expected ?? sourceInfo.etag;
    const parts = planParts(sourceInfo.size, effectivePartSize(sourceInfo.size, this.copyPartSize));
    let uploadId: string | undefined;
    try {
      const created = await this.client.send(
        new CreateMultipartUploadCommand({
          Bucket: destination.bucket,
          Key: destination.key,
          ContentType: sourceInfo.contentType,
          Metadata: sourceInfo.metadata,
          ChecksumAlgorithm: this.checksumAlgorithm,
          ...this.owner,
        }),
      );
      uploadId = created.UploadId;
      if (!uploadId)
        throw new ObjectStoreError(
          'copy',
          destination.bucket,
          destination.key,
          'CreateMultipartUpload answered without an UploadId',
        );
      const activeUploadId = uploadId;
      const completed = await mapLimit(parts, this.copyConcurrency, (part) =>
        this.copyPart(source, destination, activeUploadId, part, pinnedEtag),
      );
      const done = await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: destination.bucket,
          Key: destination.key,
          UploadId: uploadId,
          MultipartUpload: { Parts: completed },
          ...this.owner,
        }),
      );
      return {
        etag: this.requireEtag('copy', destination.bucket, destination.key, done.ETag, 'CompleteMultipartUpload'),
      };
    } catch (error) {
      const mapped = await this.copyError(error, source, destination, pinnedEtag);
      if (uploadId) {
        await this.client
          .send(
            new AbortMultipartUploadCommand({
              Bucket: destination.bucket,
              Key: destination.key,
              UploadId: uploadId,
              ...this.owner,
            }),
          )
          .catch((abortError: unknown) => {
            // Keep the copy's own error; the failed abort is worth knowing (orphaned parts) but not instead of it.
            Object.defineProperty(mapped, 'abortError', { value: abortError, enumerable: true });
          });
      }
      throw mapped;
    }
  }

  private async copyPart(
    source: ObjectRef,
    destination: ObjectRef,
    uploadId: string,
    part: PartRange,
    pinnedEtag: string,
  ): Promise<CompletedPart> {
    const res = await this.client.send(
      new UploadPartCopyCommand({
        Bucket: destination.bucket,
        Key: destination.key,
        UploadId: uploadId,
        PartNumber: part.partNumber,
        CopySource: copySource(source),
        CopySourceRange: `bytes=${part.start}-${part.end}`,
        CopySourceIfMatch: quoteEtag(pinnedEtag),
        ...this.owner,
        ...this.sourceOwner,
      }),
    );
    const result = res.CopyPartResult;
    const etag = result?.ETag;
    if (!result || !etag) {
      throw new ObjectStoreError(
        'copy',
        destination.bucket,
        destination.key,
        `UploadPartCopy of part ${part.partNumber} answered without an ETag`,
      );
    }
    return { PartNumber: part.partNumber, ETag: etag, ...partChecksums(result) };
  }

  /** A failed copy, with blame put where it belongs: a 404 or 412 is about the source, anything else the copy. */
  private async copyError(
    error: unknown,
    source: ObjectRef,
    destination: ObjectRef,
    expectedEtag: string,
  ): Promise<ObjectStoreError> {
    if (error instanceof ObjectStoreError) return error;
    const { name, status } = this.describe(error);
    if (name === 'NoSuchBucket') {
      // Either bucket can be the missing one; a copy that did not read its source first has to look now, so a
      // vanished source reads the same whichever way the copy was made.
      const sourceNow = await this.headAs('copy', source.bucket, source.key).catch(() => null);
      if (sourceNow === undefined) return new ObjectNotFoundError('copy', source.bucket, source.key, { cause: error });
      return new BucketNotFoundError('copy', destination.bucket, destination.key, { cause: error });
    }
    if (name === 'PreconditionFailed' || status === 412) {
      // A 412 carries no ETag: look at the source again to say what it is now (undefined if it is gone).
      const now = await this.head(source.bucket, source.key).catch(() => undefined);
      return new PreconditionFailedError('copy', source.bucket, source.key, expectedEtag, now?.etag, { cause: error });
    }
    if (name === 'NoSuchKey' || status === 404)
      return new ObjectNotFoundError('copy', source.bucket, source.key, { cause: error });
    return this.mapError(error, 'copy', destination.bucket, destination.key);
  }

  private describe(error: unknown): { name: string | undefined; status: number | undefined } {
    const sdk = (error ?? {}) as SdkError;
    return { name: sdk.name ?? sdk.Code, status: sdk.$metadata?.httpStatusCode };
  }

  private mapError(
    error: unknown,
    operation: ObjectStoreOperation,
    bucket: string,
    key: string | undefined,
  ): ObjectStoreError {
    if (error instanceof ObjectStoreError) return error;
    const { name, status } = this.describe(error);
    if (name === 'NoSuchBucket') return new BucketNotFoundError(operation, bucket, key, { cause: error });
    if (
      key !== undefined &&
      (name === 'NoSuchKey' || name === 'NotFound' || (status === 404 && name !== 'NoSuchUpload'))
    ) {
      return new ObjectNotFoundError(operation, bucket, key, { cause: error });
    }
    const message = error instanceof Error ? error.message : String(error);
    return new ObjectStoreError(
      operation,
      bucket,
      key,
      `${name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${message}`,
      { cause: error },
    );
  }

  private async headAs(operation: ObjectStoreOperation, bucket: string, key: string): Promise<ObjectInfo | undefined> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ...this.owner }));
      return this.info(bucket, key, res);
    } catch (error) {
      // HeadObject has no body, so a missing bucket is a bare 404 too: both read as "no such object".
      const mapped = this.mapError(error, operation, bucket, key);
      if (mapped instanceof ObjectNotFoundError) return undefined;
      throw mapped;
    }
  }

  private requireEtag(
    operation: ObjectStoreOperation,
    bucket: string,
    key: string,
    etag: string | undefined,
    call: string,
  ): string {
    if (!etag) throw new ObjectStoreError(operation, bucket, key, `${call} answered without an ETag`);
    return unquoteEtag(etag);
  }

  private info(
    bucket: string,
    key: string,
    res: {
      ContentLength?: number;
      ETag?: string;
      LastModified?: Date;
      ContentType?: string;
      Metadata?: Record<string, string>;
    },
  ): ObjectInfo {
    return {
      bucket,
      key,
      size: res.ContentLength ?? 0,
      etag: unquoteEtag(res.ETag ?? ''),
      lastModified: res.LastModified ?? new Date(0),
      contentType: res.ContentType,
      metadata: Object.fromEntries(Object.entries(res.Metadata ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    };
  }
}
