// The order go-yaml writes Go map keys in: a "natural" order where runs of digits compare as
// numbers ("a9" < "a10") and, at the first difference, letters sort after non-letters unless
// the common prefix ended in a digit. Talos maps (labels, sysctls, unstructured blocks…) come
// out in this order, so ours must too.

const isLetter = (c: string): boolean => /\p{L}/u.test(c);
const isDigit = (c: string): boolean => /\p{Nd}/u.test(c);

/** Reads the run of digits starting at `from` (on top of `seed`); returns its value and end. */
function digitRun(chars: string[], from: number, seed = 0): { value: number; end: number } {
  let value = seed;
  let end = from;
  while (end < chars.length && isDigit(chars[end] ?? '')) {
    value = value * 10 + ((chars[end] ?? '0').charCodeAt(0) - 48);
    end++;
  }
  return { value, end };
}

/** True when `a` sorts before `b`. */
export function goKeyLess(a: string, b: string): boolean {
  const left = Array.from(a);
  const right = Array.from(b);
  let previousWasDigit = false;
  const common = Math.min(left.length, right.length);
  for (let i = 0; i < common; i++) {
    const l = left[i] ?? '';
    const r = right[i] ?? '';
    if (l === r) {
      previousWasDigit = isDigit(l);
      continue;
    }
    const lLetter = isLetter(l);
    const rLetter = isLetter(r);
    if (lLetter && rLetter) return l < r;
    if (lLetter || rLetter) return previousWasDigit ? lLetter : rLetter;

    const leftRun = digitRun(left, i);
    const rightRun = digitRun(right, i);
    let leftValue = leftRun.value;
    let rightValue = rightRun.value;
    // A zero continuing a number with a non-zero digit before it is part of that number, so
    // both runs are offset alike and compare by length; leading zeros are not.
    if (l === '0' || r === '0') {
      for (let j = i - 1; j >= 0 && isDigit(left[j] ?? ''); j--) {
        if (left[j] !== '0') {
          leftValue = digitRun(left, i, 1).value;
          rightValue = digitRun(right, i, 1).value;
          break;
        }
      }
    }
    if (leftValue !== rightValue) return leftValue < rightValue;
    if (leftRun.end !== rightRun.end) return leftRun.end < rightRun.end;
    return l < r;
  }
  return left.length < right.length;
}

export function compareGoKeys(a: string, b: string): number {
  if (a === b) return 0;
  return goKeyLess(a, b) ? -1 : 1;
}
