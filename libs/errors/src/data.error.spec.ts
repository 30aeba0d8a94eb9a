import { describe, expect, it } from 'vitest';
import { DataError } from './data.error';

class ManifestConflictError extends DataError<{ key: string; etag: string }> {}
class OtherError extends DataError {}

describe('DataError', () => {
  it('takes its name from the subclass and keeps data and cause', () => {
    const cause = new Error('412 PreconditionFailed');
    const error = new ManifestConflictError('manifest changed', { key: 'm.json', etag: '"abc"' }, { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ManifestConflictError');
    expect(error.data).toEqual({ key: 'm.json', etag: '"abc"' });
    expect(error.cause).toBe(cause);
    expect(new OtherError('x', {}).name).toBe('OtherError');
  });

  it('serializes name, message, data and cause for logs', () => {
    const error = new ManifestConflictError(
      'manifest changed',
      { key: 'm.json', etag: '"abc"' },
      { cause: new RangeError('r') },
    );
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: 'ManifestConflictError',
      message: 'manifest changed',
      data: { key: 'm.json', etag: '"abc"' },
      cause: { name: 'RangeError', message: 'r' },
    });
  });
});
