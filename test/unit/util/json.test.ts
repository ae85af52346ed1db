import { deepCopy, deepEqual, deepFreeze, isObject } from '../../../src/util/json';
import { errorMessage } from '../../../src/util/errors';

describe('util/json', () => {
  it('compares JSON structurally, a key holding undefined counting as absent', () => {
    expect(deepEqual({ a: [1, { b: 'x' }], c: undefined }, { a: [1, { b: 'x' }] })).toBe(true);
    expect(deepEqual({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(deepEqual([], {})).toBe(false);
    expect(deepEqual(null, {})).toBe(false);
  });

  it('freezes deeply, and a deep copy of a frozen value is mutable', () => {
    const frozen = deepFreeze({ metadata: { labels: { a: 'b' } }, list: [{ n: 1 }] });
    expect(Object.isFrozen(frozen.metadata.labels) && Object.isFrozen(frozen.list[0])).toBe(true);
    const copy = deepCopy(frozen);
    copy.metadata.labels.a = 'c';
    copy.list.push({ n: 2 });
    expect(frozen.metadata.labels.a).toBe('b');
    expect(isObject(copy) && !isObject(copy.list)).toBe(true);
  });

  it('gives the message of an Error and the text of anything else thrown', () => {
    expect(errorMessage(new TypeError('bad'))).toBe('bad');
    expect(errorMessage('plain')).toBe('plain');
  });
});
