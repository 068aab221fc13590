/**
 * Which account an email names when several share its key (`emailKey`: full case folding).
 *
 * New emails never share a key (the deciders refuse it), but a log written before keys were full case folds
 * may hold two accounts whose emails fold equal (`straße@x.test` and `strasse@x.test`); both replay. A login
 * or an add by email then reaches the account it reached before: the one whose stored email is exactly the
 * one given (after NFC and trimming), else the one whose email matched under the old key (NFC + lower case).
 * When that still leaves several or none, the email names no account (a login fails as a wrong password
 * would, `invalid_grant`), rather than picking one of two people at random.
 */
export function accountForEmail<T extends { email: string | null }>(
  sameKey: readonly T[],
  email: string,
): T | undefined {
  if (sameKey.length <= 1) return sameKey[0];
  const given = email.normalize('NFC').trim();
  const exact = sameKey.filter((u) => u.email === given);
  if (exact.length === 1) return exact[0];
  const legacy = given.toLowerCase();
  const before = sameKey.filter((u) => u.email !== null && u.email.normalize('NFC').toLowerCase() === legacy);
  return before.length === 1 ? before[0] : undefined;
}
