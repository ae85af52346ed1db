import { OwnWrites } from '../../../src/kube/own-writes';

test('a version we wrote over is superseded; newer versions and other objects are not', () => {
  const writes = new OwnWrites();
  writes.record('uid-1', '100');
  expect(writes.isSuperseded('uid-1', '100')).toBe(true);
  expect(writes.isSuperseded('uid-1', '101')).toBe(false);
  expect(writes.isSuperseded('uid-2', '100')).toBe(false);
  writes.record('uid-1', '101');
  expect(writes.isSuperseded('uid-1', '100')).toBe(false);
  expect(writes.isSuperseded(undefined, '100')).toBe(false);
});

test('keeps at most `capacity` objects, dropping the oldest', () => {
  const writes = new OwnWrites(2);
  writes.record('a', '1');
  writes.record('b', '1');
  writes.record('c', '1');
  expect(writes.isSuperseded('a', '1')).toBe(false);
  expect(writes.isSuperseded('b', '1')).toBe(true);
  expect(writes.isSuperseded('c', '1')).toBe(true);
});
