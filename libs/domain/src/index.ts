export * from './actor';
export * from './events';
export * from './iam-error';
export * from './ids';
export * from './org-decisions';
export * from './org-rules';
export * from './org-tree';
export * from './event-org-path';
