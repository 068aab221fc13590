export * from './start-command-service';
