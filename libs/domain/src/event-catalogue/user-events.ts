import type { EventDataByType } from '../events';
import { eventDataSchema, field, noOrgPath, type EventTypeEntry } from './catalogue-entry';

type UserEventType =
  | 'UserCreated'
  | 'UserUpdated'
  | 'UserDisabled'
  | 'UserEnabled'
  | 'UserPasswordChanged'
  | 'UserPasswordSet'
  | 'UserErased';

const userOnly = (type: UserEventType) => eventDataSchema(type, 1, { userId: field.userId });

/**
 * The events of user accounts (streams `user-<userId>`): about no organization. Personal data (email, name)
 * travels only sealed, in `personal`, under the user's own key.
 */
export const USER_EVENTS = {
  UserCreated: {
    version: 1,
    schema: eventDataSchema('UserCreated', 1, {
      userId: field.userId,
      personal: field.sealedPersonalData,
      platformAdmin: { type: 'boolean' },
    }),
    orgPath: noOrgPath,
    personalData: { sealed: 'personal', subject: 'userId' },
  },
  UserUpdated: {
    version: 1,
    schema: eventDataSchema('UserUpdated', 1, { userId: field.userId, personal: field.sealedPersonalData }),
    orgPath: noOrgPath,
    personalData: { sealed: 'personal', subject: 'userId' },
  },
  UserDisabled: { version: 1, schema: userOnly('UserDisabled'), orgPath: noOrgPath },
  UserEnabled: { version: 1, schema: userOnly('UserEnabled'), orgPath: noOrgPath },
  UserPasswordChanged: {
    version: 1,
    schema: eventDataSchema(
      'UserPasswordChanged',
      1,
      { userId: field.userId, keptSessionId: { type: 'string', minLength: 1 } },
      ['userId'],
      'keptSessionId: the refresh-token family (`sid`) of the session that made the change, which survives it.',
    ),
    orgPath: noOrgPath,
  },
  UserPasswordSet: { version: 1, schema: userOnly('UserPasswordSet'), orgPath: noOrgPath },
  UserErased: { version: 1, schema: userOnly('UserErased'), orgPath: noOrgPath },
} satisfies { [K in UserEventType]: EventTypeEntry<EventDataByType[K]> };
