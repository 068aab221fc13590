export * from './api-context';
export * from './create-api-app';
export * from './problem-mapping';
