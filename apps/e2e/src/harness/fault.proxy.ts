import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the proxy received it (body read whole: AWS API bodies here are small). */
export interface ProxiedRequest {
  method: string;
  /** Path and query. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface ProxiedResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** What to do with a request: an answer (forwarded, rewritten or made up), or a connection reset. */
export type ProxyAnswer = (ProxiedResponse & { label: string }) | { reset: true; label: string };

/** Send a request (possibly rewritten) on to the real service and get its answer. */
export type Forward = (request?: Partial<ProxiedRequest>) => Promise<ProxiedResponse>;

export type ProxyHandler = (request: ProxiedRequest, forward: Forward) => Promise<ProxyAnswer>;

export interface ProxyLogEntry {
  at: number;
  method: string;
  url: string;
  /** `x-amz-target` for JSON protocols (Firehose), else empty. */
  target: string;
  label: string;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: give it to the SDK as a (service-specific) endpoint. */
  readonly url: string;
  readonly log: readonly ProxyLogEntry[];
  /** How many requests the handler labelled so. */
  count(label: string): number;
  /** Swap the decision function (e.g. start or end an outage). */
  setHandler(handler: ProxyHandler): void;
  stop(): Promise<void>;
}

/** The handler that changes nothing. */
export const passThrough: ProxyHandler = async (_request, forward) => ({ ...(await forward()), label: 'forwarded' });

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host']);

function forwardTo(target: URL, original: ProxiedRequest): Forward {
  return (override = {}) =>
    new Promise<ProxiedResponse>((resolve, reject) => {
      const body = override.body ?? original.body;
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(override.headers ?? original.headers)) {
        if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
      }
      headers['content-length'] = String(body.length);
      headers.host = target.host;
      const req = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: override.method ?? original.method,
          path: override.url ?? original.url,
          headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const out: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) {
              if (v !== undefined && (!HOP_BY_HOP.has(k) || k === 'content-length'))
                out[k] = Array.isArray(v) ? v.join(', ') : v;
            }
            resolve({ status: res.statusCode ?? 502, headers: out, body: Buffer.concat(chunks) });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
}

/**
 * A fault-injecting HTTP proxy on 127.0.0.1 in front of one service (moto's Firehose or S3 endpoint). Every request is
 * read whole, handed to the handler with a `forward` function, and answered with what the handler decides: the real
 * answer, a rewritten one (a partial batch failure), a made-up error, or a reset connection. The log keeps every
 * decision so a scenario can count the faults it injected.
 *
 * @example
 * const proxy = await startFaultProxy(moto.endpoint, passThrough);
 * spawn(extractor, { env: { AWS_ENDPOINT_URL_FIREHOSE: proxy.url } });
 */
export async function startFaultProxy(targetUrl: string, handler: ProxyHandler): Promise<FaultProxy> {
  const target = new URL(targetUrl);
  let current = handler;
  const log: ProxyLogEntry[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request: ProxiedRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      const entry: ProxyLogEntry = {
        at: Date.now(),
        method: request.method,
        url: request.url,
        target: String(req.headers['x-amz-target'] ?? ''),
        label: 'pending',
      };
      log.push(entry);
      current(request, forwardTo(target, request)).then(
        (answer) => {
          entry.label = answer.label;
          if ('reset' in answer) {
            req.socket.destroy();
            return;
          }
          // a HEAD answer has no body but announces the object's length: keep the service's header
          const length =
            request.method === 'HEAD' ? (answer.headers['content-length'] ?? '0') : String(answer.body.length);
          res.writeHead(answer.status, { ...answer.headers, 'content-length': length });
          res.end(answer.body);
        },
        (error: unknown) => {
          // the real service could not be reached: the client sees what it would see without the proxy
          entry.label = `proxy-error: ${(error as Error).message}`;
          req.socket.destroy();
        },
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    count: (label) => log.filter((e) => e.label === label).length,
    setHandler: (next) => void (current = next),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
