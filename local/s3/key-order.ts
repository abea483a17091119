/**
 * Compares strings in UTF-8 byte order, which is how S3 sorts keys. JavaScript's `<` compares UTF-16
 * code units, which disagrees only between surrogate pairs (U+10000 and up) and U+E000–U+FFFF;
 * shifting those two ranges restores code point order, which equals UTF-8 byte order.
 */
export function compareUtf8(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

/** Index of the first element of `sorted` that is greater than (or, if `inclusive`, equal to) `bound`. */
export function lowerBound(sorted: readonly string[], bound: string, inclusive: boolean): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const order = compareUtf8(sorted[mid], bound);
    if (order < 0 || (!inclusive && order === 0)) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * `sorted` with `key` added (`present`) or taken out, as a new array: one binary search instead of
 * sorting the bucket again after every new key, and a listing that holds the old array keeps it.
 */
export function withKeyIndexed(sorted: readonly string[], key: string, present: boolean): readonly string[] {
  const at = lowerBound(sorted, key, true);
  if (present === (sorted[at] === key)) return sorted;
  return present ? sorted.toSpliced(at, 0, key) : sorted.toSpliced(at, 1);
}
