/** The standalone process's configuration lives in the one configuration module every app shares. */
export { standaloneConfigFromEnv as configFromEnv, type StandaloneConfig } from '@arbor/runtime';
