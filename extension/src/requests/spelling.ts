/** "Did you mean": the known words closest to a misspelt one, for quick fixes. Pure. */

/** Edit distance (insert, delete, substitute, swap two neighbours), stopping early beyond `limit`. */
export function editDistance(a: string, b: string, limit = Infinity): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prevPrev: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (prevPrev[j - 2] ?? 0) + 1);
      row.push(d);
      best = Math.min(best, d);
    }
    if (best > limit) return limit + 1;
    prevPrev = prev;
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/** Known words within a third of the word's length (at least 1, at most 3 edits), closest first. */
export function closestWords(word: string, known: readonly string[]): string[] {
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  const lower = word.toLowerCase();
  return known
    .map((k) => ({ k, d: editDistance(lower, k.toLowerCase(), limit) }))
    .filter((x) => x.d <= limit && x.k !== word)
    .sort((x, y) => x.d - y.d || x.k.localeCompare(y.k))
    .map((x) => x.k);
}
