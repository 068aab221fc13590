export * from './api-context';
export * from './create-api-app';
export * from './problem-mapping';
export * from './internal-command-api';
export * from './create-api-context';
export * from './trusted-proxies';
export * from './listen-first';
