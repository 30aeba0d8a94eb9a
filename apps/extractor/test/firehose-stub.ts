import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

/** What the stub does with one PutRecordBatch call. */
export type StubAnswer =
  /** Accept every record. */
  | { kind: 'ok' }
  /** Accept all but the records at these indexes (they get `ServiceUnavailableException`), HTTP 200. */
  | { kind: 'partial'; failIndexes: readonly number[] }
  /**
   * The whole call fails with this HTTP status and error type (e.g. 400 `ServiceUnavailableException` when throttled).
   */
  | { kind: 'error'; status: number; type: string }
  /** Drop the connection without an answer. */
  | { kind: 'reset' };

export interface StubCall {
  index: number;
  streamName: string;
  /** Each record's payload, decoded. */
  records: string[];
  answer: StubAnswer;
}

export interface FirehoseStub {
  readonly endpoint: string;
  readonly calls: readonly StubCall[];
  /** Payloads of records the stub accepted, in order: what Firehose would have delivered. */
  readonly accepted: readonly string[];
  stop(): Promise<void>;
}

/**
 * A local HTTP server speaking Firehose's JSON 1.1 protocol for `PutRecordBatch` and `PutRecord` (the AWS SDK talks to
 * it through `endpoint`), answering each call as `plan` says: the partial failures and throttling moto cannot produce.
 */
export async function startFirehoseStub(
  plan: (index: number, records: readonly string[]) => StubAnswer,
): Promise<FirehoseStub> {
  const calls: StubCall[] = [];
  const accepted: string[] = [];
  const handle = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target === 'Firehose_20150804.PutRecord') {
      // the one-record-per-call baseline: always accepted
      const input = JSON.parse(body) as { DeliveryStreamName: string; Record: { Data: string } };
      const record = Buffer.from(input.Record.Data, 'base64').toString('utf8');
      calls.push({
        index: calls.length,
        streamName: input.DeliveryStreamName,
        records: [record],
        answer: { kind: 'ok' },
      });
      accepted.push(record);
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ RecordId: randomUUID().replace(/-/g, ''), Encrypted: false }));
      return;
    }
    if (target !== 'Firehose_20150804.PutRecordBatch') {
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ __type: 'UnknownOperationException', message: target }));
      return;
    }
    const input = JSON.parse(body) as { DeliveryStreamName: string; Records: { Data: string }[] };
    const records = input.Records.map((r) => Buffer.from(r.Data, 'base64').toString('utf8'));
    const answer = plan(calls.length, records);
    calls.push({ index: calls.length, streamName: input.DeliveryStreamName, records, answer });
    if (answer.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (answer.kind === 'error') {
      res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify({ __type: answer.type, message: `stub: ${answer.type}` }));
      return;
    }
    const failed = new Set(answer.kind === 'partial' ? answer.failIndexes : []);
    const responses = records.map((data, i) => {
      if (failed.has(i)) return { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' };
      accepted.push(data);
      return { RecordId: randomUUID().replace(/-/g, '') };
    });
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
    res.end(JSON.stringify({ FailedPutCount: failed.size, Encrypted: false, RequestResponses: responses }));
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    accepted,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
