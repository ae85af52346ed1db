// The one flag parser, as the CLI commands, the operator and the test programs use it.
import { type FlagSpec, Flags, UsageError, flagUsage, parseDuration, parseFlags } from '../../../src/cli/args';

const specs: FlagSpec[] = [
  { name: 'name', value: 'NAME', description: 'a name', default: 'x' },
  { name: 'on', aliases: ['enable'], description: 'a switch' },
  { name: 'n', value: 'N', description: 'a number' },
  { name: 'wait', value: 'DURATION', description: 'a duration', default: '2s' },
  { name: 'output', short: 'o', value: 'FILE', description: 'where' },
  { name: 'endpoint', value: 'HOST', description: 'hosts', variadic: true },
  { name: 'cidr', value: 'CIDR', description: 'networks', repeatable: true },
];
const parse = (...args: string[]) => new Flags(parseFlags(args, specs), specs);

describe('parseFlags / Flags', () => {
  it('reads --flag=value, --flag value, long and short aliases, bare booleans, and defaults', () => {
    const flags = parse('--name=a', '--n', '3', '--enable', '-o', 'out.yaml', 'rest');
    expect([flags.string('name'), flags.number('n'), flags.bool('on'), flags.string('output'), flags.duration('wait')]).toEqual(['a', 3, true, 'out.yaml', 2000]);
    expect(flags.positionals).toEqual(['rest']);
    expect([flags.given('name'), flags.given('wait')]).toEqual([true, false]);
  });

  it('takes explicit true/false for booleans, keeps "=" in values, and stops at --', () => {
    expect(parse('--on=false').bool('on')).toBe(false);
    expect(parse('--on=true').bool('on')).toBe(true);
    expect(parse('--name=a=b').string('name')).toBe('a=b');
    expect(parse('--', '--n').positionals).toEqual(['--n']);
  });

  it('keeps the last value of a single-valued flag given twice (a manifest\'s override)', () => {
    expect(parse('--name', 'a', '--name=b').string('name')).toBe('b');
    expect(parse('--name', 'a', '--name=b').list('name')).toEqual(['b']);
  });

  it('accumulates repeatable and variadic flags; a negative number is a value, not a flag', () => {
    const flags = parse('--endpoint', 'a', 'b', '--cidr', '10.0.0.0/8', '--cidr=fd00::/8', '--n', '-1');
    expect([flags.list('endpoint'), flags.list('cidr'), flags.number('n')]).toEqual([['a', 'b'], ['10.0.0.0/8', 'fd00::/8'], -1]);
  });

  it('rejects unknown flags, missing values, repeats of single flags and bad values with a UsageError', () => {
    expect(() => parse('--nope')).toThrow(new UsageError('unknown flag --nope'));
    expect(() => parse('--name')).toThrow('--name needs a value (NAME)');
    expect(() => parse('--on=maybe')).toThrow('--on takes no value but true or false (got "maybe")');
    expect(() => parse('--n=abc').number('n')).toThrow('--n: invalid number "abc"');
    expect(() => parse('--wait=soon').duration('wait')).toThrow('--wait: invalid duration');
    expect(() => parseFlags([], [{ name: 'must', value: 'X', description: '', required: true }])).toThrow('--must is required');
  });

  it('parses Go durations', () => {
    expect(parseDuration('15s')).toBe(15_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1h2m3s')).toBe(3_723_000);
    expect(parseDuration('10')).toBe(10_000);
    expect(() => parseDuration('5 minutes')).toThrow(UsageError);
  });

  it('lists aliases and defaults in usage', () => {
    const usage = flagUsage(specs);
    expect(usage).toContain('--on, --enable');
    expect(usage).toContain('-o, --output FILE');
    expect(usage).toContain('(default "2s")');
  });
});
