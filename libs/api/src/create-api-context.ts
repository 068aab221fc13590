import {
  AccessPolicy,
  Authenticator,
  ClientAuthenticator,
  ClientSecretHasher,
  LoginThrottle,
  PasswordHasher,
  TokenEndpoint,
  TokenIntrospection,
  TokenService,
  type EventStore,
  type Logger,
  type ReadModels,
  type SecretVault,
  type SigningKeyRing,
  type ThrottleStore,
  type TokenStore,
} from '@arbor/application';
import type { ApiContext, CommandPort, ProjectionWatermark, Readiness } from './api-context';

export interface ApiContextParts {
  commands: CommandPort;
  readModels: ReadModels;
  projection: ProjectionWatermark;
  eventStore: EventStore;
  vault: SecretVault;
  tokenStore: TokenStore;
  /** Login-throttle counters, shared by every gateway of the deployment. */
  throttleStore: ThrottleStore;
  keys: SigningKeyRing;
  issuer: string;
  hasher: PasswordHasher;
  log: Logger;
  readiness(): Promise<Readiness>;
}

/** Wires the gateway's services from its ports; shared by the embedded and the distributed composition roots. */
export function createApiContext(parts: ApiContextParts): ApiContext {
  const { readModels, vault, tokenStore, keys, issuer, hasher } = parts;
  const tokens = new TokenService(keys, { issuer });
  const authenticator = new Authenticator(tokens, readModels, tokenStore);
  const throttle = new LoginThrottle(parts.throttleStore, vault);
  const clientAuthenticator = new ClientAuthenticator({ readModels, vault, secrets: new ClientSecretHasher(vault), throttle });
  return {
    commands: parts.commands,
    readModels,
    projection: parts.projection,
    policy: new AccessPolicy(readModels),
    authenticator,
    clientAuthenticator,
    tokenEndpoint: new TokenEndpoint({ tokens, hasher, vault, readModels, tokenStore, clients: clientAuthenticator, throttle }),
    introspection: new TokenIntrospection({ tokens, authenticator, tokenStore, readModels }),
    eventStore: parts.eventStore,
    keys,
    issuer,
    log: parts.log,
    readiness: parts.readiness,
  };
}
