export * from './config';
export * from './internal-token';
export * from './opened-so-far';
export * from './shutdown';
export * from './webhook-http-transport';
export * from './read-models-url';
