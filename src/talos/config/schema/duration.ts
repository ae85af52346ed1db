// Go time.Duration text form ("168h0m0s", "1m30s", "500ms"): go-yaml reads durations from it
// and writes them with Duration.String(), so a patch saying `interval: 1h` comes out `1h0m0s`.

const UNIT_NANOS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const SECOND = 1_000_000_000n;

/** Parses Go duration syntax into nanoseconds; throws on anything Go would reject. */
export function parseGoDuration(text: string): bigint {
  const match = /^([-+]?)(.*)$/s.exec(text);
  const sign = match?.[1] === '-' ? -1n : 1n;
  let rest = match?.[2] ?? '';
  if (rest === '0') return 0n;
  if (rest === '') throw new Error(`invalid duration "${text}"`);
  let total = 0n;
  while (rest !== '') {
    const part = /^([0-9]*)(?:\.([0-9]*))?(ns|us|µs|μs|ms|s|m|h)/.exec(rest);
    if (!part || (part[1] === '' && (part[2] ?? '') === '')) throw new Error(`invalid duration "${text}"`);
    const unit = UNIT_NANOS[part[3] ?? ''] ?? 1n;
    const whole = BigInt(part[1] || '0') * unit;
    const fractionDigits = part[2] ?? '';
    const fraction = fractionDigits === '' ? 0n : (BigInt(fractionDigits) * unit) / 10n ** BigInt(fractionDigits.length);
    total += whole + fraction;
    rest = rest.slice(part[0].length);
  }
  return sign * total;
}

/** Digits of `value / 10^precision` with trailing zeros of the fraction dropped. */
function decimal(value: bigint, precision: number): string {
  const scale = 10n ** BigInt(precision);
  const whole = value / scale;
  const fraction = (value % scale).toString().padStart(precision, '0').replace(/0+$/, '');
  return fraction === '' ? whole.toString() : `${whole}.${fraction}`;
}

/** Go's Duration.String(). */
export function formatGoDuration(nanos: bigint): string {
  if (nanos === 0n) return '0s';
  const sign = nanos < 0n ? '-' : '';
  const value = nanos < 0n ? -nanos : nanos;
  if (value < SECOND) {
    if (value < 1_000n) return `${sign}${value}ns`;
    if (value < 1_000_000n) return `${sign}${decimal(value, 3)}µs`;
    return `${sign}${decimal(value, 6)}ms`;
  }
  const hours = value / UNIT_NANOS.h!;
  const minutes = (value % UNIT_NANOS.h!) / UNIT_NANOS.m!;
  const seconds = decimal(value % UNIT_NANOS.m!, 9);
  if (hours > 0n) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0n) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}
