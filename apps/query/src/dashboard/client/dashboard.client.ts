/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The dashboard page: fetches /api/dashboard and draws it. Bundled by tools/build-dashboard.mjs (esbuild) with
// lightweight-charts inlined: the page loads nothing from outside this server.
import { CandlestickSeries, ColorType, createChart, type CandlestickData, type UTCTimestamp } from 'lightweight-charts';
import type { DashboardData } from '../dashboard.api';

const $ = (selector: string): HTMLElement => {
  const el = document.querySelector<HTMLElement>(selector);
  if (!el) throw new Error(`missing element ${selector}`);
  return el;
};

const params = new URLSearchParams(location.search);
const state = {
  product: params.get('product') ?? 'BTC-USD',
  interval: params.get('interval') ?? '1m',
  data: undefined as DashboardData | undefined,
};

const chart = createChart($('#chart'), {
  autoSize: true,
  layout: { background: { type: ColorType.Solid, color: '#161b22' }, textColor: '#8b949e', fontSize: 12 },
  grid: { vertLines: { color: '#21262d' }, horzLines: { color: '#21262d' } },
  rightPriceScale: { borderColor: '#30363d' },
  timeScale: { borderColor: '#30363d', timeVisible: true, secondsVisible: false },
  crosshair: { mode: 0 },
});
const series = chart.addSeries(CandlestickSeries, {
  upColor: '#26a69a',
  downColor: '#ef5350',
  borderVisible: false,
  wickUpColor: '#26a69a',
  wickDownColor: '#ef5350',
});

function age(seconds: number): string {
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}
const hhmm = (iso: string) => iso.slice(11, 16);
const hhmmss = (iso: string) => iso.slice(11, 19);

function legend(c: DashboardData['candles'][number] | undefined): void {
  const el = $('[data-testid="legend"]');
  if (!c) {
    el.textContent = 'no candles in this window';
    return;
  }
  el.innerHTML = '';
  const parts: [string, string][] = [
    [`${state.interval} · ${c.bucket_start.slice(0, 16).replace('T', ' ')} UTC`, ''],
    ['O', c.open],
    ['H', c.high],
    ['L', c.low],
    ['C', c.close],
    ['ticks', String(c.ticks)],
  ];
  for (const [k, v] of parts) {
    const span = document.createElement('span');
    span.textContent = v ? `${k} ` : k;
    if (v) {
      const b = document.createElement('b');
      b.textContent = v;
      b.dataset.field = k;
      span.append(b);
    } else span.style.marginRight = '14px';
    el.append(span);
  }
  el.dataset.bucket = c.bucket_start;
}

function render(data: DashboardData): void {
  state.data = data;
  const candles: CandlestickData[] = data.candles.map((c) => ({
    time: (Date.parse(c.bucket_start) / 1000) as UTCTimestamp,
    open: Number(c.open),
    high: Number(c.high),
    low: Number(c.low),
    close: Number(c.close),
  }));
  series.setData(candles);
  $('#chart').dataset.candles = String(candles.length);
  legend(data.candles[data.candles.length - 1]);

  $('[data-testid="product"]').textContent = data.product;
  const price = $('[data-testid="latest-price"]');
  if (data.latest) {
    const previous = price.dataset.value;
    price.textContent = data.latest.price;
    price.dataset.value = data.latest.price;
    price.classList.toggle('up', previous !== undefined && Number(data.latest.price) > Number(previous));
    price.classList.toggle('down', previous !== undefined && Number(data.latest.price) < Number(previous));
    $('[data-testid="latest-time"]').textContent =
      `at ${hhmmss(data.latest.tick_time)} UTC · ${age(data.latest.age_s)} ago`;
  } else {
    price.textContent = '–';
    $('[data-testid="latest-time"]').textContent = 'no price in the last 24 h';
  }

  for (const store of ['raw', 'backup'] as const) {
    const el = $(`[data-testid="freshness-${store}"]`);
    const row = data.freshness.find((f) => f.store === store);
    el.classList.remove('ok', 'warn', 'bad');
    el.classList.add(row === undefined ? 'bad' : row.age_s <= 120 ? 'ok' : row.age_s <= 900 ? 'warn' : 'bad');
    const ageEl = el.querySelector('.age');
    if (ageEl) ageEl.textContent = row ? age(row.age_s) : 'none in 24 h';
    el.dataset.ageS = row ? String(row.age_s) : '';
    el.title = row ? `newest ingest_time ${row.newest_ingest_time}` : 'no records in the last 24 hours';
  }

  const strip = $('[data-testid="completeness-strip"]');
  strip.innerHTML = '';
  let ok = 0;
  let expected = 0;
  for (const h of data.completeness) {
    const cell = document.createElement('div');
    cell.className = 'cell';
    const pct = h.completeness * 100;
    // green at 100%, amber towards 95%, red below: a missing minute an hour already shows
    const hue = Math.max(0, Math.min(120, (h.completeness - 0.9) * 1200));
    cell.style.background = `hsl(${hue} 55% 45%)`;
    cell.dataset.hour = h.hour;
    cell.dataset.completeness = String(h.completeness);
    if (data.completeness.length <= 24) cell.textContent = `${pct.toFixed(1)}%`;
    cell.title =
      `${h.hour.slice(0, 13).replace('T', ' ')}h UTC: ${pct.toFixed(2)}% ` +
      `(${h.ok}/${h.expected} ok, ${h.missed} missed, ${h.missing} missing)`;
    strip.append(cell);
    ok += h.ok;
    expected += h.expected;
  }
  $('[data-testid="completeness-overall"]').textContent = expected ? `${((ok / expected) * 100).toFixed(2)}%` : '–';
  $('[data-testid="strip-start"]').textContent = data.completeness[0] ? `${hhmm(data.completeness[0].hour)} UTC` : '';
  $('[data-testid="strip-end"]').textContent = 'now';

  const body = $('[data-testid="gaps"] tbody');
  body.innerHTML = '';
  for (const g of data.gaps.slice(0, 8)) {
    const tr = document.createElement('tr');
    for (const [text, cls] of [
      [g.start.slice(0, 19).replace('T', ' '), ''],
      [String(g.seconds), ''],
      [g.reason, `reason ${g.reason}`],
    ]) {
      const td = document.createElement('td');
      td.textContent = text ?? '';
      if (cls) td.className = cls;
      tr.append(td);
    }
    body.append(tr);
  }
  $('[data-testid="gap-count"]').textContent =
    `${data.gapCount} gaps, ${data.gapSeconds} s since ` +
    `${data.completeness[0] ? hhmm(data.completeness[0].hour) : '–'} UTC`;

  const status = $('[data-testid="status"]');
  status.classList.remove('error');
  status.textContent =
    `updated ${hhmmss(data.now)} UTC · ${data.candles.length} candles ` +
    `${data.from.slice(0, 16).replace('T', ' ')} → ` +
    `${data.to.slice(0, 16).replace('T', ' ')} · ${data.elapsedMs} ` +
    `ms${data.badRecords ? ` · ${data.badRecords} bad records skipped` : ''}`;
  status.dataset.updated = data.now;
}

const config = (await fetch('/api/config').then((r) => r.json())) as { refreshS: number };

let fitPending = true;
let staleDropped = 0;
/** Seconds the server asked us to wait (503 Retry-After) before the next refresh, if it did. */
let retryAfterS: number | undefined;
async function refresh(): Promise<void> {
  try {
    const res = await fetch(
      `/api/dashboard?product=${encodeURIComponent(state.product)}&interval=${encodeURIComponent(state.interval)}`,
    );
    const retryAfter = Number(res.headers.get('retry-after'));
    retryAfterS = res.status === 503 && retryAfter > 0 ? retryAfter : undefined;
    const body = (await res.json()) as DashboardData | { error: string; requestId?: string };
    if (!res.ok || 'error' in body) {
      throw new Error(
        'error' in body ? `${body.error}${body.requestId ? ` (request ${body.requestId})` : ''}` : `HTTP ${res.status}`,
      );
    }
    // An answer that lands after the interval or product was switched is stale (a timer refresh in flight at the
    // click): drawing it would put the old interval's candles under the new one's legend. Counted for tests.
    if (body.interval !== state.interval || body.product !== state.product) {
      staleDropped += 1;
      $('#chart').dataset.staleDropped = String(staleDropped);
      return;
    }
    render(body);
    if (fitPending) {
      chart.timeScale().fitContent();
      fitPending = false;
    }
  } catch (error) {
    const status = $('[data-testid="status"]');
    status.classList.add('error');
    status.textContent = `refresh failed: ${(error as Error).message}`;
  }
}

// One refresh at a time: the next starts only after the previous answered (a slow server is never asked again while
// it works), `refreshS` after it ended; a click during a refresh runs once right after it. `data-refresh` on <body>
// says which state the loop is in (`running`, or `waiting` for its timer), for tests and the curious.
let running: Promise<void> | undefined;
let again = false;
let timer: ReturnType<typeof setTimeout> | undefined;
function requestRefresh(): void {
  if (running) {
    again = true;
    return;
  }
  clearTimeout(timer);
  document.body.dataset.refresh = 'running';
  running = refresh().finally(() => {
    running = undefined;
    if (again) {
      again = false;
      requestRefresh();
      return;
    }
    timer = setTimeout(requestRefresh, (retryAfterS ?? config.refreshS) * 1000);
    document.body.dataset.refresh = 'waiting';
  });
}

for (const button of document.querySelectorAll<HTMLButtonElement>('[data-interval]')) {
  button.setAttribute('aria-pressed', String(button.dataset.interval === state.interval));
  button.addEventListener('click', () => {
    state.interval = button.dataset.interval ?? '1m';
    for (const b of document.querySelectorAll('[data-interval]')) b.setAttribute('aria-pressed', String(b === button));
    fitPending = true;
    requestRefresh();
  });
}

chart.subscribeCrosshairMove((p) => {
  const data = state.data;
  if (!data) return;
  const t = typeof p.time === 'number' ? p.time : undefined;
  const hovered = t === undefined ? undefined : data.candles.find((c) => Date.parse(c.bucket_start) / 1000 === t);
  legend(hovered ?? data.candles[data.candles.length - 1]);
});

requestRefresh();
