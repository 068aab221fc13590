export * from './read-side';
