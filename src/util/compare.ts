// String order by UTF-16 code units, as Go compares strings for ASCII and as sort() does by default.
// Not localeCompare: that one collates with ICU, whose data (megabytes of the binary, paged into
// memory on first use) and CPU an operator sorting condition types and names does not need.
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
