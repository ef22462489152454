import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { comparePaths } from '../../util/paths.js'

/**
 * A file whose mtime is this close to (or after) the moment its index was written may have changed
 * again within the file system's timestamp granularity: "racily clean", as git calls it.
 */
const RACY_MS = 2000
const MAGIC = 'VFI1'
/** Bytes of a record besides its path: length (2), size, mtime, ctime, inode (8 each), SHA-256 (32). */
const RECORD_FIXED = 2 + 4 * 8 + 32

/** The stat fields a record is compared on. */
export interface FileStat {
  readonly size: number
  readonly mtimeMs: number
  readonly ctimeMs: number
  readonly ino: number | bigint
}

/** What the index knows of a file: its address, and whether its stat alone proves it unchanged. */
export interface Known {
  readonly sha256: string
  /** False when the file was touched, copied or is racily clean: its bytes must be hashed to tell. */
  readonly trusted: boolean
}

/** The default place of folder indexes: `$VARVE_CACHE_DIR`, else `~/.cache/varve`. */
export const defaultCacheDir = () => process.env.VARVE_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'varve')

/**
 * What `putFolder` learnt of one local folder's files: per file (in walk order), its stat (size,
 * mtime, ctime, inode) and the SHA-256 address of its bytes, so the next put of the folder neither
 * reads nor hashes unchanged files. As git's index: one file per folder, read whole and written
 * whole (to a temporary file renamed over the old one), a record trusted only when all of its stat
 * matches and the mtime is safely older than the index (`cp -p` and `rsync -a` keep size and mtime
 * but not ctime or inode; a file changed twice within one timestamp tick looks clean to mtime
 * alone). An untrusted record still names the address the file had, so hashing it (no upload)
 * tells whether it changed. It holds facts about local files only, never about a branch: the branch
 * is always listed. A torn or foreign file is ignored (everything is hashed again).
 */
export class FolderIndex {
  readonly #file: string
  readonly #root: string
  #bytes: Buffer | undefined
  #writtenAt = 0

  /** `cacheDir`: where indexes live (default `defaultCacheDir()`); `root`: the absolute folder. */
  constructor(root: string, cacheDir = defaultCacheDir()) {
    this.#root = root
    const name = createHash('sha256').update(root).digest('hex').slice(0, 40)
    this.#file = path.join(cacheDir, 'folders', `${name}.vfi`)
    this.#bytes = this.#read()
  }

  #read(): Buffer | undefined {
    let bytes: Buffer
    try {
      bytes = fs.readFileSync(this.#file)
    } catch {
      return undefined
    }
    const rootBytes = Buffer.from(this.#root)
    const head = 4 + 4 + 8 + 4
    if (bytes.length < head || bytes.toString('latin1', 0, 4) !== MAGIC) return undefined
    const rootLen = bytes.readUInt32LE(16)
    if (bytes.length < head + rootLen || !bytes.subarray(head, head + rootLen).equals(rootBytes)) return undefined
    this.#writtenAt = bytes.readDoubleLE(8)
    // The records are checked lazily as they are read: a torn tail ends the lookups there.
    return bytes.subarray(head + rootLen)
  }

  /** Lookups by relative path, called in ascending path order (the walk's), each record read once. */
  reader(): { lookup(rel: string, stat: FileStat): Known | undefined } {
    const bytes = this.#bytes
    const racyFrom = this.#writtenAt - RACY_MS
    let at = 0
    let rel: string | undefined
    const advance = () => {
      if (!bytes || at + 2 > bytes.length) return (rel = undefined)
      const len = bytes.readUInt16LE(at)
      if (at + RECORD_FIXED + len > bytes.length) return (rel = undefined)
      rel = bytes.toString('utf8', at + 2, at + 2 + len)
    }
    advance()
    return {
      lookup(want, stat) {
        while (rel !== undefined && comparePaths(rel, want) < 0) {
          at += RECORD_FIXED + bytes!.readUInt16LE(at)
          advance()
        }
        if (rel !== want) return undefined
        const f = at + 2 + bytes!.readUInt16LE(at)
        const size = bytes!.readDoubleLE(f)
        if (size !== stat.size) return undefined
        const mtime = bytes!.readDoubleLE(f + 8)
        const ctime = bytes!.readDoubleLE(f + 16)
        const ino = bytes!.readDoubleLE(f + 24)
        const sameStat = mtime === stat.mtimeMs && ctime === stat.ctimeMs && ino === Number(stat.ino)
        const racy = Math.max(stat.mtimeMs, stat.ctimeMs) >= racyFrom
        return { sha256: bytes!.toString('hex', f + 32, f + 64), trusted: sameStat && !racy }
      },
    }
  }

  /**
   * Writes the index anew: `count` files in walk order, `file(i)` giving each one's relative path and
   * stat (from before it was read), and `address(i)` its SHA-256 in hex, or undefined when unknown.
   */
  write(count: number, file: (i: number) => { rel: string } & FileStat, address: (i: number) => string | undefined): void {
    const root = Buffer.from(this.#root)
    const chunks: Buffer[] = []
    const head = Buffer.alloc(20)
    head.write(MAGIC, 0, 'latin1')
    head.writeDoubleLE(Date.now(), 8)
    head.writeUInt32LE(root.length, 16)
    chunks.push(head, root)
    let known = 0
    let block = Buffer.allocUnsafe(1 << 20)
    let used = 0
    for (let i = 0; i < count; i++) {
      const sha = address(i)
      if (!sha) continue
      const f = file(i)
      const len = Buffer.byteLength(f.rel)
      if (len > 0xffff) continue
      if (used + RECORD_FIXED + len > block.length) {
        chunks.push(block.subarray(0, used))
        block = Buffer.allocUnsafe(Math.max(1 << 20, RECORD_FIXED + len))
        used = 0
      }
      block.writeUInt16LE(len, used)
      block.write(f.rel, used + 2, 'utf8')
      let o = used + 2 + len
      o = block.writeDoubleLE(f.size, o)
      o = block.writeDoubleLE(f.mtimeMs, o)
      o = block.writeDoubleLE(f.ctimeMs, o)
      o = block.writeDoubleLE(Number(f.ino), o)
      block.write(sha, o, 'hex')
      used = o + 32
      known++
    }
    chunks.push(block.subarray(0, used))
    head.writeUInt32LE(known, 4)
    fs.mkdirSync(path.dirname(this.#file), { recursive: true })
    const tmp = `${this.#file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
    try {
      fs.writeFileSync(tmp, Buffer.concat(chunks))
      fs.renameSync(tmp, this.#file)
    } catch {
      // A cache: failing to write it only means the next put hashes again.
      fs.rmSync(tmp, { force: true })
    }
  }
}
