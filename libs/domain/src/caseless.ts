import { caseFold } from 'unicode-case-folding';

/** ASCII text is already in NFC and folds by lower-casing: the common case skips the (costlier) Unicode path. */
// eslint-disable-next-line no-control-regex
export const ASCII = /^[\x00-\x7f]*$/;

/**
 * The key under which two texts are "the same, ignoring case" (sibling names, emails): Unicode canonical
 * caseless matching (Unicode §3.13 D145), `NFD(toCasefold(NFD(X)))`, stored in NFC (the same equality,
 * shorter). toCasefold is full case folding (CaseFolding.txt statuses C and F, not the Turkic T): `ß` and `ẞ`
 * fold to `ss`, final `ς` to `σ`, `İ` to `i̇`; so `Straße`, `STRASSE` and `strasse` share a key, and so do
 * `Café` and `Cafe\u0301`. Two texts match under D144 (default caseless matching) only if they match here.
 * JavaScript has no case fold of its own (`toLowerCase` keeps `ß`); the table is the npm package
 * `unicode-case-folding` (generated from the UCD's CaseFolding.txt).
 */
export const caselessKey = (text: string): string =>
  ASCII.test(text) ? text.toLowerCase() : caseFold(text.normalize('NFD')).normalize('NFC');
