import { LocalObjectStore, type LocalObjectStoreOptions } from './local.object-store';
import { ObjectStoreConfigError } from './object-store.errors';
import type { ObjectStore } from './object-store.port';
import { S3ObjectStore, type S3ObjectStoreOptions } from './s3.object-store';

/** Which adapter, and its options: an app's config module builds this once from env (`DATA_DIR` -> local). */
export type ObjectStoreConfig = ({ kind: 'local' } & LocalObjectStoreOptions) | ({ kind: 's3' } & S3ObjectStoreOptions);

/**
 * Build the `ObjectStore` an app runs with.
 * @example
 * const store = createObjectStore(env.DATA_DIR ? { kind: 'local', root: env.DATA_DIR } : { kind: 's3' });
 */
export function createObjectStore(config: ObjectStoreConfig): ObjectStore {
  switch (config.kind) {
    case 'local': {
      if (typeof config.root !== 'string' || config.root.trim() === '') {
        throw new ObjectStoreConfigError('root', 'must be a non-empty folder path');
      }
      const { kind: _kind, ...options } = config;
      return new LocalObjectStore(options);
    }
    case 's3': {
      const { kind: _kind, ...options } = config;
      return new S3ObjectStore(options);
    }
    default: {
      const kind: unknown = (config as { kind?: unknown }).kind;
      throw new ObjectStoreConfigError('kind', `must be "local" or "s3", got ${JSON.stringify(kind)}`);
    }
  }
}
