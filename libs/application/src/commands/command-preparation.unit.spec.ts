import { ClientSecretHasher } from '../security/client-secret-hasher';
import { MIN_CLIENT_SECRET_SYMBOLS, isPlausibleClientSecret } from './command-preparation';

describe('isPlausibleClientSecret', () => {
  it('accepts what newSecret makes', () => {
    for (let i = 0; i < 2000; i++) expect(isPlausibleClientSecret(ClientSecretHasher.newSecret())).toBe(true);
  });

  it('refuses the right shape with too little variety, and any other shape', () => {
    const fifteen = 'ABCDEFGHIJKLMNO';
    expect(new Set(fifteen).size).toBe(MIN_CLIENT_SECRET_SYMBOLS - 1);
    for (const weak of [
      'A'.repeat(43),
      'AB'.repeat(22),
      fifteen.repeat(3),
      'weak',
      `${ClientSecretHasher.newSecret()}=`,
      undefined,
      42,
    ])
      expect(isPlausibleClientSecret(weak)).toBe(false);
    expect(isPlausibleClientSecret(`${fifteen}P`.repeat(3))).toBe(true);
  });
});
