export * from './s3-keys.errors';
export * from './firehose-key';
export * from './event-key';
export * from './local-path';
