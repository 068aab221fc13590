export * from './standalone-config';
export * from './start-standalone';
