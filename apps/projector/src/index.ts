export * from './start-projector';
