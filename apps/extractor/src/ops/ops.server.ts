import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExtractorMetrics } from './extractor.metrics';

export interface HealthState {
  /** False once shutdown has begun (the orchestrator should stop routing to this task). */
  running: boolean;
  spoolDepth: number;
  spoolBytes: number;
  spoolCapBytes: number;
  /** Seconds since the last ok record per product (absent before the first). */
  lastSuccessAgeS: Record<string, number>;
}

export interface OpsServer {
  readonly port: number;
  /** The address it listens on, e.g. `127.0.0.1`. */
  readonly host: string;
  close(): Promise<void>;
}

/**
 * `GET /healthz` (JSON, 503 while shutting down) and `GET /metrics` (Prometheus text) on one port, bound to `host`
 * (loopback by default: the container opts in to `0.0.0.0`).
 */
export async function startOpsServer(
  port: number,
  host: string,
  metrics: ExtractorMetrics,
  health: () => HealthState,
): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    if (path === '/healthz') {
      const state = health();
      res.writeHead(state.running ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: state.running ? 'ok' : 'stopping', ...state }));
      return;
    }
    if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(error.message),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz or /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    host: (server.address() as AddressInfo).address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
