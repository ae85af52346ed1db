import { OwnWrites } from '../../../src/bootstrap/own-writes';

test('the version our write replaced is skipped; the one the server returned and other objects are not', () => {
  const writes = new OwnWrites();
  writes.record('uid-1', '100', '101');
  expect(writes.isSuperseded('uid-1', '100')).toBe(true);
  expect(writes.isSuperseded('uid-1', '101')).toBe(false);
  expect(writes.isSuperseded('uid-2', '100')).toBe(false);
  expect(writes.isSuperseded(undefined, '100')).toBe(false);
});

test('a write the server accepted without a new version supersedes nothing (the object would stall)', () => {
  const writes = new OwnWrites();
  writes.record('uid-1', '100', '100');
  expect(writes.isSuperseded('uid-1', '100')).toBe(false);
  writes.record('uid-1', '100', '101');
  writes.record('uid-1', '100', '100');
  expect(writes.isSuperseded('uid-1', '100')).toBe(false);
});

test('the memory expires, so a copy is not skipped for good if the newer one never arrives', () => {
  let now = 0;
  const writes = new OwnWrites(1_000, 10, () => now);
  writes.record('uid-1', '100', '101');
  now = 999;
  expect(writes.isSuperseded('uid-1', '100')).toBe(true);
  now = 1_000;
  expect(writes.isSuperseded('uid-1', '100')).toBe(false);
});

test('keeps at most `capacity` objects, dropping the oldest', () => {
  const writes = new OwnWrites(10_000, 2);
  writes.record('a', '1', '2');
  writes.record('b', '1', '2');
  writes.record('c', '1', '2');
  expect(writes.isSuperseded('a', '1')).toBe(false);
  expect(writes.isSuperseded('b', '1')).toBe(true);
  expect(writes.isSuperseded('c', '1')).toBe(true);
});
