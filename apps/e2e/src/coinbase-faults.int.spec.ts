import type { MissReason } from '@btc-etl/price-schema';
import type { FaultRule, InstalledFaultRule } from '@btc-etl/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadE2eConfig, motoEndpoint } from './harness/e2e.config';
import { PipelineHarness, runFor, type ScenarioResult } from './harness/pipeline.harness';
import type { ProductCounts } from './harness/reconciliation';
import { sleep } from '@btc-etl/resilience';

const config = loadE2eConfig();

interface CoinbaseScenario {
  name: string;
  /** Rules active from 3 s after the extractor started for `windowS` seconds (the fake's clock). */
  rules: (from: number, until: number) => FaultRule[];
  windowS: number;
  /** What the injected faults must have produced, given the rules' hit counts and the counts per product. */
  check: (rules: readonly InstalledFaultRule[], perProduct: readonly ProductCounts[]) => void;
}

const missedOf = (p: readonly ProductCounts[], reason: MissReason) =>
  p.reduce((n, x) => n + (x.missed[reason] ?? 0), 0);
const hitsOf = (rules: readonly InstalledFaultRule[], id: string) => rules.find((r) => r.id === id)?.hits ?? 0;

const SCENARIOS: CoinbaseScenario[] = [
  {
    name: '429 bursts (with and without Retry-After)',
    windowS: 4,
    rules: (from, until) => [
      {
        id: '429-retry-after',
        endpoint: 'ticker',
        productId: 'BTC-USD',
        from,
        until,
        fault: { kind: 'rate-limit', retryAfter: 1 },
      },
      { id: '429', endpoint: 'ticker', productId: 'ETH-USD', from, until, fault: { kind: 'rate-limit' } },
    ],
    check: (rules, p) => {
      expect(hitsOf(rules, '429-retry-after') + hitsOf(rules, '429')).toBeGreaterThanOrEqual(6);
      expect(missedOf(p, 'http_429')).toBe(hitsOf(rules, '429-retry-after') + hitsOf(rules, '429'));
    },
  },
  {
    name: '5xx answers (503 and 500)',
    windowS: 4,
    rules: (from, until) => [
      {
        id: '503',
        endpoint: 'ticker',
        productId: 'BTC-USD',
        from,
        until,
        fault: { kind: 'server-error', status: 503 },
      },
      {
        id: '500',
        endpoint: 'ticker',
        productId: 'ETH-USD',
        from,
        until,
        fault: { kind: 'server-error', status: 500 },
      },
    ],
    check: (rules, p) => {
      expect(hitsOf(rules, '503') + hitsOf(rules, '500')).toBeGreaterThanOrEqual(6);
      expect(missedOf(p, 'http_5xx')).toBe(hitsOf(rules, '503') + hitsOf(rules, '500'));
    },
  },
  {
    name: 'answers slower than the interval (1.2-4 s against a 1 s cadence, REQUEST_TIMEOUT_MS 2500)',
    windowS: 5,
    rules: (from, until) => [{ id: 'slow', endpoint: 'ticker', from, until, delayMs: { min: 1200, max: 4000 } }],
    check: (rules, p) => {
      expect(hitsOf(rules, 'slow')).toBeGreaterThanOrEqual(6);
      // late but answered within the timeout: ok; past it: timeout; a product whose slots are all busy: overrun
      expect(missedOf(p, 'timeout')).toBeGreaterThan(0);
      expect(p.reduce((n, x) => n + x.ok, 0)).toBeGreaterThan(0);
    },
  },
  {
    name: 'connection resets (before the headers and mid-body)',
    windowS: 4,
    rules: (from, until) => [
      {
        id: 'reset-before',
        endpoint: 'ticker',
        productId: 'BTC-USD',
        from,
        until,
        fault: { kind: 'reset', when: 'before-headers' },
      },
      {
        id: 'reset-mid',
        endpoint: 'ticker',
        productId: 'ETH-USD',
        from,
        until,
        fault: { kind: 'reset', when: 'mid-body' },
      },
    ],
    check: (rules, p) => {
      expect(hitsOf(rules, 'reset-before') + hitsOf(rules, 'reset-mid')).toBeGreaterThanOrEqual(6);
      expect(missedOf(p, 'network')).toBe(hitsOf(rules, 'reset-before') + hitsOf(rules, 'reset-mid'));
    },
  },
  {
    name: 'HTML error pages (a 502 from a proxy, and HTML with 200 where JSON was due)',
    windowS: 4,
    rules: (from, until) => [
      { id: 'html-502', endpoint: 'ticker', productId: 'BTC-USD', from, until, fault: { kind: 'html', status: 502 } },
      { id: 'html-200', endpoint: 'ticker', productId: 'ETH-USD', from, until, fault: { kind: 'html', status: 200 } },
    ],
    check: (rules, p) => {
      expect(p.find((x) => x.product === 'BTC-USD')?.missed.http_5xx).toBe(hitsOf(rules, 'html-502'));
      expect(p.find((x) => x.product === 'ETH-USD')?.missed.parse_error).toBe(hitsOf(rules, 'html-200'));
      expect(hitsOf(rules, 'html-502')).toBeGreaterThanOrEqual(3);
      expect(hitsOf(rules, 'html-200')).toBeGreaterThanOrEqual(3);
    },
  },
  {
    name: 'malformed JSON (bodies cut short, a price that is not a decimal, a missing field)',
    windowS: 4,
    rules: (from, until) => [
      { id: 'truncated', endpoint: 'ticker', productId: 'BTC-USD', from, until, fault: { kind: 'truncated-json' } },
      {
        id: 'bad-price',
        endpoint: 'ticker',
        productId: 'ETH-USD',
        from,
        until: from + 2000,
        fault: { kind: 'price', value: 'abc' },
      },
      {
        id: 'no-price',
        endpoint: 'ticker',
        productId: 'ETH-USD',
        from: from + 2000,
        until,
        fault: { kind: 'missing-field', field: 'price' },
      },
    ],
    check: (rules, p) => {
      const hits = hitsOf(rules, 'truncated') + hitsOf(rules, 'bad-price') + hitsOf(rules, 'no-price');
      expect(hits).toBeGreaterThanOrEqual(6);
      expect(missedOf(p, 'parse_error')).toBe(hits);
    },
  },
];

for (const [i, scenario] of SCENARIOS.entries()) {
  describe(`Coinbase fault: ${scenario.name}`, () => {
    const h = new PipelineHarness({ name: `coinbase ${scenario.name}`, motoEndpoint: motoEndpoint(), seed: 100 + i });
    let result: ScenarioResult;
    let rules: readonly InstalledFaultRule[] = [];
    let exitCode: number | null = null;

    beforeAll(async () => {
      await h.setup();
      await h.startBackupRunner();
      const { exit } = await runFor(h, config.scenarioSeconds, async (running) => {
        // the faults start once the extractor is polling, so the warm-up request and the first ticks are clean
        const from = running.app.startedAt + 3000;
        rules = h.setCoinbaseFaults(scenario.rules(from, from + scenario.windowS * 1000));
        await sleep(from - Date.now() + scenario.windowS * 1000);
      });
      exitCode = exit.code;
      await h.settle();
      await h.backupRunner?.stop();
      result = await h.collect({
        faults: Object.fromEntries(rules.filter((r) => r.id !== 'latency').map((r) => [r.id, r.hits])),
      });
    }, 120_000);
    afterAll(() => h.teardown());

    it(
      'reconciles: every due tick has one record in raw and backup, ' +
        'the query agrees, every miss has the reason of its fault',
      () => {
        expect(exitCode).toBe(0);
        expect(result.report.violations).toEqual([]);
        for (const p of result.report.perProduct) {
          expect(p.rawDistinct).toBe(p.due);
          expect(p.backupDistinct).toBe(p.due);
          expect(p.queryOkRaw + p.queryMissedRaw).toBe(p.due);
          expect(p.queryOkBackup + p.queryMissedBackup).toBe(p.due);
        }
      },
    );

    it('turned each injected fault into the missed record it implies', () => {
      scenario.check(rules, result.report.perProduct);
    });
  });
}
