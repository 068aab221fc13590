export * from './config';
export * from './internal-token';
