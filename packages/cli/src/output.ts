import pc from 'picocolors'

const colorEnabled = () => !!process.stdout.isTTY && !process.env.NO_COLOR && process.env.TERM !== 'dumb'

/** Human output: coloured and aligned on a TTY, plain when piped; machine output: JSON / NDJSON. */
export const colors = () => pc.createColors(colorEnabled())

export function print(line = ''): void {
  process.stdout.write(line + '\n')
}

/** One JSON document (for a single result). */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, bigintSafe, 2) + '\n')
}

/** One JSON document per line (for streams). */
export function printNdjson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, bigintSafe) + '\n')
}

const bigintSafe = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)

/** Prints rows as aligned columns (the last column is never padded). */
export function printTable(rows: string[][], options: { header?: string[] } = {}): void {
  const all = options.header ? [options.header, ...rows] : rows
  if (!all.length) return
  // (a loop, not Math.max(...rows): a spread of 200k arguments overflows the stack)
  const widths = all[0]!.map((_, i) => all.reduce((w, r) => Math.max(w, visibleLength(r[i] ?? '')), 0))
  const c = colors()
  all.forEach((r, idx) => {
    const line = r.map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visibleLength(cell)))).join('  ')
    print(idx === 0 && options.header ? c.bold(line) : line)
  })
}

// eslint-disable-next-line no-control-regex
const visibleLength = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').length

export const shortId = (id: string) => id.slice(0, 12)

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  let v = n
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`
}

export const formatTime = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z')
