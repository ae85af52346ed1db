import { compareCodeUnits } from '../../../src/util/compare';

it('orders by code unit, upper case before lower case, shorter prefix first', () => {
  expect(['b', 'B', 'a', 'ab', 'A', ''].sort(compareCodeUnits)).toEqual(['', 'A', 'B', 'a', 'ab', 'b']);
  expect(compareCodeUnits('2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')).toBe(0);
  // A locale would say "a" < "B".
  expect(compareCodeUnits('a', 'B')).toBeGreaterThan(0);
});
