// Simulators side by side (a demo and a test run, two worlds) take address ranges of their own.
import { ipsFirstAddress, simulatorArgs } from '../../support/talos-sim';

test('an ips simulator starts in a random 127.1–99.x.x /24', () => {
  expect(ipsFirstAddress(() => 0)).toBe('127.1.0.2');
  expect(ipsFirstAddress(() => 0.999)).toBe('127.99.255.2');
  const args = simulatorArgs({ addressing: 'ips' });
  const first = args[args.indexOf('-first-ip') + 1]!;
  expect(first).toMatch(/^127\.([1-9]|[1-9][0-9])\.\d{1,3}\.2$/);
});

test('an explicit first address wins; ports addressing takes none', () => {
  expect(simulatorArgs({ addressing: 'ips', firstIp: '127.0.9.2' })).toEqual(expect.arrayContaining(['-first-ip', '127.0.9.2']));
  expect(simulatorArgs({})).not.toContain('-first-ip');
});
