/**
 * The organizations most read-model specs share; ids sort in creation order.
 *   r ── a ── a1 ── a11        o
 *   └─── b ── b1
 */
export const ACCESS_TREE: Array<[string, string, string | null]> = [
  ['r', 'Root', null],
  ['a', 'Alpha', 'r'],
  ['a1', 'Alpha one', 'a'],
  ['a11', 'Alpha one one', 'a1'],
  ['b', 'Beta', 'r'],
  ['b1', 'Beta one', 'b'],
  ['o', 'Other', null],
];
