import { missReasonOf, type CoinbaseClient } from '@btc-etl/coinbase';
import type { PollingSource } from './tick-source.port';

export type PolledEndpoint = 'exchange-ticker' | 'spot';

/**
 * Coinbase REST as a polling source. The client checks its token bucket before each request (an empty bucket is a
 * `rate_limited` miss, never a queued, late request) and maps the answer to a validated record.
 */
export function coinbasePollingSource(
  client: CoinbaseClient,
  endpoint: PolledEndpoint,
  /**
   * Client for the warm-up request (same connection pool, its own User-Agent so it can be told apart);
   * default `client`.
   */
  warmUpClient: CoinbaseClient = client,
): PollingSource {
  const get = endpoint === 'spot' ? client.getSpotPrice : client.getExchangeTicker;
  const warm = endpoint === 'spot' ? warmUpClient.getSpotPrice : warmUpClient.getExchangeTicker;
  return {
    kind: 'poll',
    source: endpoint === 'spot' ? 'coinbase-spot' : 'coinbase-exchange-ticker',
    poll: (productId, scheduledTime, { signal, timeoutMs }) =>
      get.call(client, productId, { signal, timeoutMs, scheduledTime }),
    // an error that is not a failed poll (a bug, a bad argument) is still a gap in the data: recorded as a network miss
    classify: (error) => missReasonOf(error) ?? 'network',
    warmUp: async (productId, { signal, timeoutMs }) => {
      try {
        await warm.call(warmUpClient, productId, { signal, timeoutMs });
      } catch {
        // only a warm-up: an unreachable Coinbase shows up as missed ticks with their reasons
      }
    },
  };
}
