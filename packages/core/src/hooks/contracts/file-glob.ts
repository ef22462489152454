import picomatch from 'picomatch'

/** A path glob and the static prefix under which its matches live (to list no more than needed). */
export function fileGlob(glob: string): { matches: (path: string) => boolean; base: string } {
  const matches = picomatch(glob, { dot: true })
  const scan = picomatch.scan(glob)
  const base = scan.isGlob ? (scan.base ? `${scan.base}/` : '') : glob
  return { matches, base }
}
