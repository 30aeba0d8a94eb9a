import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FakeApi, FakeEndpoint, Fault } from './fake-coinbase.faults';
import type { FakeRequest } from './fake-coinbase.request-log';
import { apiError, type Answer } from './fake-coinbase.routes';
import type { FakeCandle } from './price-walk';

const HTML_PAGE = (status: number) =>
  `<!DOCTYPE html>\n<html><head><title>${status} Bad Gateway</title></head>\n` +
  `<body><center><h1>${status} Bad Gateway</h1></center>\n<hr><center>cloudflare</center>\n</body></html>\n`;

/** The normal answer with one field left out (`missing-field` fault); a candle column by name. */
function withoutField(endpoint: FakeEndpoint, body: unknown, field: string): unknown {
  if (endpoint === 'candles' && Array.isArray(body)) {
    const column = ['time', 'low', 'high', 'open', 'close', 'volume'].indexOf(field);
    if (column < 0) throw new RangeError(`missing-field: candles have no column ${field}`);
    return body.map((row: FakeCandle, i) => (i === 0 ? row.filter((_, c) => c !== column) : row));
  }
  if (endpoint === 'spot') {
    const data = { ...(body as { data: Record<string, unknown> }).data };
    if (field === 'data') return {};
    delete data[field.replace(/^data\./, '')];
    return { data };
  }
  const copy = { ...(body as Record<string, unknown>) };
  delete copy[field];
  return copy;
}

/** The normal answer with its price replaced (`price` fault): the close of every candle, spot's amount. */
function withPrice(endpoint: FakeEndpoint, body: unknown, value: unknown): unknown {
  if (endpoint === 'candles' && Array.isArray(body))
    return body.map((row: unknown[]) => [...row.slice(0, 4), value, ...row.slice(5)]);
  if (endpoint === 'spot') return { data: { ...(body as { data: object }).data, amount: value } };
  return { ...(body as object), price: value };
}

const retryAfterHeader = (retryAfter: number | string | undefined): Record<string, string> =>
  retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) };

/** Send a complete answer (unless the client left) and note its status and time in the request log. */
function write(res: ServerResponse, record: FakeRequest, status: number, text: string, headers = {}): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
  record.status = status;
  record.answeredAt = Date.now();
}

/** One request to answer: the fault its rule chose (if any) and how to compute the normal answer. */
export interface Reply {
  api: FakeApi;
  req: IncomingMessage;
  res: ServerResponse;
  record: FakeRequest;
  fault: Fault | undefined;
  normalAnswer: () => Answer;
}

/**
 * Answer a request as its fault says: hang, reset (before or mid-body), a 429 or 5xx in the API's error shape, a
 * Cloudflare HTML page, a canned response, or the normal answer with a field missing, another price, or cut short.
 */
export function reply({ api, req, res, record, fault, normalAnswer }: Reply): void {
  if (fault?.kind === 'hang') return;
  if (fault?.kind === 'reset' && fault.when !== 'mid-body') {
    req.socket.destroy();
    return;
  }
  if (fault?.kind === 'rate-limit') {
    const message = fault.message ?? (api === 'exchange' ? 'Public rate limit exceeded' : 'Too many requests');
    write(res, record, 429, JSON.stringify(apiError(api, 429, message)), retryAfterHeader(fault.retryAfter));
    return;
  }
  if (fault?.kind === 'server-error' || fault?.kind === 'status') {
    const status = fault.status ?? 503;
    const message =
      fault.kind === 'status' && fault.message ? fault.message : status >= 500 ? 'Service Unavailable' : 'Bad Request';
    write(res, record, status, JSON.stringify(apiError(api, status, message)), retryAfterHeader(fault.retryAfter));
    return;
  }
  if (fault?.kind === 'html') {
    const status = fault.status ?? 502;
    write(res, record, status, HTML_PAGE(status), { 'content-type': 'text/html; charset=UTF-8' });
    return;
  }
  if (fault?.kind === 'respond') {
    write(res, record, fault.status, fault.body, fault.headers);
    return;
  }

  const answer = normalAnswer();
  let body = answer.body;
  if (answer.status === 200 && fault?.kind === 'missing-field') body = withoutField(record.endpoint, body, fault.field);
  if (answer.status === 200 && fault?.kind === 'price') body = withPrice(record.endpoint, body, fault.value);
  const text = JSON.stringify(body);
  if (fault?.kind === 'truncated-json') {
    write(res, record, answer.status, text.slice(0, fault.bytes ?? Math.floor(text.length / 2)));
    return;
  }
  if (fault?.kind === 'reset') {
    // headers promise the whole body, half of it arrives, then the connection dies
    res.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.write(text.slice(0, Math.floor(text.length / 2)), () => req.socket.destroy());
    return;
  }
  write(res, record, answer.status, text, answer.headers);
}
