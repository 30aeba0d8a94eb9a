import { CoinbaseParseError } from './coinbase.errors';
import { parseJsonKeepingNumberText } from './json-text';

/**
 * A response body as JSON; `keepNumberText` keeps numbers as their text (candles, so decimals are never rounded).
 * HTML (a Cloudflare page) and cut-off JSON become a CoinbaseParseError naming the URL.
 */
export function parseBody(text: string, href: string, keepNumberText = false): unknown {
  try {
    return keepNumberText ? parseJsonKeepingNumberText(text) : JSON.parse(text);
  } catch (error) {
    const what = /^\s*</.test(text) ? 'an HTML page instead of JSON' : `not valid JSON (${(error as Error).message})`;
    throw new CoinbaseParseError({ url: href, body: text, issues: [{ path: '', message: what }] }, { cause: error });
  }
}

/** Run a mapper; re-throw its parse error with the request's URL and the body as it arrived. */
export function mapBody<T>(href: string, body: string, map: () => T): T {
  try {
    return map();
  } catch (error) {
    if (error instanceof CoinbaseParseError) {
      throw new CoinbaseParseError({ url: href, body, issues: error.issues }, { cause: error });
    }
    throw error;
  }
}
