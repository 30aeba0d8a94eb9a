import type { ProxiedResponse, ProxyAnswer, ProxyHandler } from './fault.proxy';

const PUT_RECORD_BATCH = 'Firehose_20150804.PutRecordBatch';

interface PutRecordBatchBody {
  DeliveryStreamName: string;
  Records: { Data: string }[];
}

interface PutRecordBatchAnswer {
  FailedPutCount: number;
  Encrypted?: boolean;
  RequestResponses: { RecordId?: string; ErrorCode?: string; ErrorMessage?: string }[];
}

const json = (status: number, body: unknown, errorType?: string): ProxiedResponse => ({
  status,
  headers: {
    'content-type': 'application/x-amz-json-1.1',
    'x-amzn-requestid': `e2e-${Math.random().toString(16).slice(2)}`,
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  },
  body: Buffer.from(JSON.stringify(body)),
});

/** Firehose's documented error answers for a whole call (AWS JSON 1.1: `__type` + message). */
export const FIREHOSE_CALL_ERRORS = {
  /** The common throttling error, HTTP 400. */
  throttling: () => json(400, { __type: 'ThrottlingException', message: 'Rate exceeded' }, 'ThrottlingException'),
  /** PutRecordBatch's "back off and retry" error, HTTP 500 (API reference). */
  unavailable: () =>
    json(500, { __type: 'ServiceUnavailableException', message: 'Slow down.' }, 'ServiceUnavailableException'),
} as const;

export interface FirehoseFaultPlan {
  /** Every `failEveryRecord`-th record (counted over the whole run) is refused inside an otherwise successful call. */
  failEveryRecord?: number;
  /**
   * Every `throttleEveryCall`-th PutRecordBatch call is refused whole, alternating ThrottlingException and
   * ServiceUnavailableException.
   */
  throttleEveryCall?: number;
}

export interface FirehoseFaultCounters {
  calls: number;
  /** Records sent by the extractor, resends included. */
  recordsSeen: number;
  /** Records refused inside partially failed calls (never forwarded to moto). */
  recordsFailed: number;
  /** Records forwarded to moto and acknowledged. */
  recordsForwarded: number;
  /** Calls that reached moto (each one becomes one raw object: moto's Firehose does not buffer). */
  callsForwarded: number;
  callsThrottled: number;
  callsPartial: number;
  /** Size in bytes of every record received (decoded), resends included: what Firehose bills, before rounding. */
  recordBytes: number[];
}

/**
 * Partial batch failures and throttling in front of moto's Firehose. A refused record is really not delivered: the
 * call forwarded to moto holds only the accepted records, and the answer puts moto's RecordIds back at their
 * positions with `ErrorCode: ServiceUnavailableException` at the refused ones, as PutRecordBatch answers a partial
 * failure. So a producer that does not resend exactly the failed records loses data, and one that resends too much
 * duplicates it: both show in the reconciliation.
 */
export function firehoseFaults(
  plan: FirehoseFaultPlan,
  counters: FirehoseFaultCounters = newFirehoseCounters(),
): {
  handler: ProxyHandler;
  counters: FirehoseFaultCounters;
} {
  const handler: ProxyHandler = async (request, forward): Promise<ProxyAnswer> => {
    if (request.headers['x-amz-target'] !== PUT_RECORD_BATCH) return { ...(await forward()), label: 'forwarded' };
    counters.calls++;
    const body = JSON.parse(request.body.toString('utf8')) as PutRecordBatchBody;
    counters.recordsSeen += body.Records.length;
    for (const r of body.Records) counters.recordBytes.push(Buffer.from(r.Data, 'base64').length);
    if (plan.throttleEveryCall && counters.calls % plan.throttleEveryCall === 0) {
      counters.callsThrottled++;
      const error =
        counters.callsThrottled % 2 === 1 ? FIREHOSE_CALL_ERRORS.throttling() : FIREHOSE_CALL_ERRORS.unavailable();
      return { ...error, label: 'throttled' };
    }
    const refused = new Set<number>();
    if (plan.failEveryRecord) {
      body.Records.forEach((_, i) => {
        if ((counters.recordsSeen - body.Records.length + i + 1) % (plan.failEveryRecord ?? 1) === 0) refused.add(i);
      });
    }
    if (refused.size === 0) {
      const answer = await forward();
      counters.callsForwarded++;
      counters.recordsForwarded += body.Records.length;
      return { ...answer, label: 'forwarded' };
    }
    counters.callsPartial++;
    counters.recordsFailed += refused.size;
    const accepted = body.Records.filter((_, i) => !refused.has(i));
    let ids: PutRecordBatchAnswer['RequestResponses'] = [];
    if (accepted.length > 0) {
      const real = await forward({ body: Buffer.from(JSON.stringify({ ...body, Records: accepted })) });
      if (real.status !== 200) return { ...real, label: 'forwarded-error' };
      const parsed = JSON.parse(real.body.toString('utf8')) as PutRecordBatchAnswer;
      if (parsed.FailedPutCount !== 0) throw new Error(`moto refused records itself: ${real.body.toString('utf8')}`);
      ids = parsed.RequestResponses;
      counters.callsForwarded++;
      counters.recordsForwarded += accepted.length;
    }
    let next = 0;
    const merged: PutRecordBatchAnswer = {
      FailedPutCount: refused.size,
      Encrypted: false,
      RequestResponses: body.Records.map((_, i) =>
        refused.has(i)
          ? { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' }
          : { RecordId: ids[next++]?.RecordId ?? 'missing' },
      ),
    };
    return { ...json(200, merged), label: 'partial' };
  };
  return { handler, counters };
}

export function newFirehoseCounters(): FirehoseFaultCounters {
  return {
    calls: 0,
    callsForwarded: 0,
    recordsSeen: 0,
    recordsFailed: 0,
    recordsForwarded: 0,
    callsThrottled: 0,
    callsPartial: 0,
    recordBytes: [],
  };
}

/** An outage: every PutRecordBatch call's connection is reset before an answer (the endpoint is unreachable). */
export const firehoseOutage: ProxyHandler = async (request, forward) =>
  request.headers['x-amz-target'] === PUT_RECORD_BATCH
    ? { reset: true, label: 'outage' }
    : { ...(await forward()), label: 'forwarded' };

const s3Error = (status: number, code: string, message: string): ProxiedResponse => ({
  status,
  headers: { 'content-type': 'application/xml' },
  body: Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>` +
      `<RequestId>e2e</RequestId></Error>`,
  ),
});

/**
 * The three ways a CopyObject fails on S3: a 500, a 503 SlowDown, and a 200 whose body is an `<Error>` (documented).
 */
export const S3_COPY_ERRORS = [
  {
    label: 'copy-500',
    answer: () => s3Error(500, 'InternalError', 'We encountered an internal error. Please try again.'),
  },
  { label: 'copy-503', answer: () => s3Error(503, 'SlowDown', 'Please reduce your request rate.') },
  {
    label: 'copy-200-error',
    answer: () => s3Error(200, 'InternalError', 'We encountered an internal error. Please try again.'),
  },
] as const;

export interface S3CopyFaultPlan {
  /** Every n-th CopyObject fails, cycling through S3_COPY_ERRORS. */
  failEveryCopy?: number;
  /** Every CopyObject fails (until the handler is swapped). */
  failAllCopies?: boolean;
}

/** S3 in front of moto for the backup Lambda: CopyObject (a PUT with `x-amz-copy-source`) fails as planned. */
export function s3CopyFaults(plan: S3CopyFaultPlan): {
  handler: ProxyHandler;
  counters: { copies: number; failed: number };
} {
  const counters = { copies: 0, failed: 0 };
  const handler: ProxyHandler = async (request, forward) => {
    const isCopy = request.method === 'PUT' && request.headers['x-amz-copy-source'] !== undefined;
    if (!isCopy) return { ...(await forward()), label: 'forwarded' };
    counters.copies++;
    if (plan.failAllCopies || (plan.failEveryCopy && counters.copies % plan.failEveryCopy === 0)) {
      const fault = S3_COPY_ERRORS[counters.failed++ % S3_COPY_ERRORS.length] ?? S3_COPY_ERRORS[0];
      return { ...fault.answer(), label: fault.label };
    }
    return { ...(await forward()), label: 'copy-forwarded' };
  };
  return { handler, counters };
}
