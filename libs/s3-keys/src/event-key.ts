import { S3KeyError } from './s3-keys.errors';

/**
 * The object key of an S3 event notification, decoded: S3 URL-encodes keys with `+` for spaces
 * (`red+flower%2B1.json` -> `red flower+1.json`), and moto even encodes `/` as `%2F`.
 */
export function decodeS3EventKey(encoded: string): string {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch (cause) {
    throw new S3KeyError(encoded, 'malformed percent-encoding in an S3 event key', { cause });
  }
}

/** The inverse, as S3 and moto send it (`encodeURIComponent` with `+` for spaces); for event factories in tests. */
export function encodeS3EventKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+');
}
