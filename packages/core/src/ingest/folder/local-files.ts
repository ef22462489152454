import fs from 'node:fs'
import path from 'node:path'
import { comparePaths } from '../../util/paths.js'

/** A FileList as plain buffers (ends, size, mtime, ctime, inode columns of Float64). */
export interface FileListParts {
  readonly names: ArrayBuffer
  readonly columns: ArrayBuffer[]
  readonly totalBytes: number
  readonly notFollowed: number
  readonly notFollowedExamples: readonly string[]
}

/** A regular file found under a folder, with the stat fields the checksum cache compares. */
export interface LocalFile {
  /** Path relative to the folder, with '/' separators. */
  readonly rel: string
  readonly size: number
  readonly mtimeMs: number
  readonly ctimeMs: number
  readonly ino: number
}

/**
 * The regular files under a folder, in the order Varve sorts paths (UTF-8 byte order), so the list
 * can be merged with a branch listing. Stored column-wise in flat buffers (the paths' UTF-8 bytes back
 * to back, numbers in typed arrays): a million files take ~70 MB and no object the garbage collector
 * must trace again and again while the upload runs (that made the cost per file grow with the count).
 */
export class FileList {
  /** The relative paths, UTF-8, back to back; path i is bytes [#ends[i-1], #ends[i]). */
  #names = Buffer.allocUnsafe(64 * 1024)
  #namesBytes = 0
  #ends = new Float64Array(1024)
  #size = new Float64Array(1024)
  #mtime = new Float64Array(1024)
  #ctime = new Float64Array(1024)
  #ino = new Float64Array(1024)
  #count = 0
  totalBytes = 0
  /** Symbolic links the walk did not follow (and other entries that are neither files nor folders). */
  notFollowed = 0
  /** The first few of them, relative paths, to name in a message. */
  readonly notFollowedExamples: string[] = []

  get count(): number {
    return this.#count
  }

  push(rel: string, st: fs.Stats): void {
    const i = this.#count
    if (i === this.#size.length) {
      const grow = (a: Float64Array) => {
        const b = new Float64Array(a.length * 2)
        b.set(a)
        return b
      }
      this.#ends = grow(this.#ends)
      this.#size = grow(this.#size)
      this.#mtime = grow(this.#mtime)
      this.#ctime = grow(this.#ctime)
      this.#ino = grow(this.#ino)
    }
    const bytes = Buffer.byteLength(rel)
    if (this.#namesBytes + bytes > this.#names.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.#names.length * 2, this.#namesBytes + bytes))
      this.#names.copy(grown, 0, 0, this.#namesBytes)
      this.#names = grown
    }
    this.#namesBytes += this.#names.write(rel, this.#namesBytes)
    this.#ends[i] = this.#namesBytes
    this.#size[i] = st.size
    this.#mtime[i] = st.mtimeMs
    this.#ctime[i] = st.ctimeMs
    this.#ino[i] = st.ino
    this.#count++
    this.totalBytes += st.size
  }

  /** The list as plain buffers, to hand from a worker thread (`transfer` them) to `FileList.from`. */
  toParts(): FileListParts {
    const n = this.#count
    return {
      names: this.#names.buffer.slice(this.#names.byteOffset, this.#names.byteOffset + this.#namesBytes) as ArrayBuffer,
      columns: [this.#ends, this.#size, this.#mtime, this.#ctime, this.#ino].map((a) => a.slice(0, n).buffer),
      totalBytes: this.totalBytes,
      notFollowed: this.notFollowed,
      notFollowedExamples: this.notFollowedExamples,
    }
  }

  static from(parts: FileListParts): FileList {
    const list = new FileList()
    list.#names = Buffer.from(parts.names)
    list.#namesBytes = parts.names.byteLength
    const column = (i: number) => new Float64Array(parts.columns[i]!)
    list.#ends = column(0)
    list.#size = column(1)
    list.#mtime = column(2)
    list.#ctime = column(3)
    list.#ino = column(4)
    list.#count = list.#ends.length
    list.totalBytes = parts.totalBytes
    list.notFollowed = parts.notFollowed
    list.notFollowedExamples.push(...parts.notFollowedExamples)
    return list
  }

  rel(i: number): string {
    return this.#names.toString('utf8', i === 0 ? 0 : this.#ends[i - 1]!, this.#ends[i]!)
  }

  at(i: number): LocalFile {
    return { rel: this.rel(i), size: this.#size[i]!, mtimeMs: this.#mtime[i]!, ctimeMs: this.#ctime[i]!, ino: this.#ino[i]! }
  }
}

/**
 * Every regular file under `dir`, recursively, in path order (no sort afterwards: each folder's
 * entries are sorted as their paths sort, a folder's name as "name/"). Symlinks are not followed
 * unless `followSymlinks` (then a link to a file is that file, a link to a folder is walked, and a
 * folder already on the way down is not walked again); what is not followed is counted in
 * `notFollowed`. Synchronous on purpose: nothing else runs during the walk, and handing 100k stats to
 * the thread pool one by one cost twice the stats themselves.
 */
export function walkFolder(dir: string, options: { followSymlinks?: boolean } = {}): FileList {
  const root = path.resolve(dir)
  const out = new FileList()
  const notFollowed = (rel: string) => {
    out.notFollowed++
    if (out.notFollowedExamples.length < 3) out.notFollowedExamples.push(rel)
  }
  const onTheWay = new Set<string>()
  const base = root.endsWith(path.sep) ? root : root + path.sep
  const visit = (rel: string): void => {
    const abs = rel ? base + rel : root
    const real = options.followSymlinks ? fs.realpathSync(abs) : ''
    if (options.followSymlinks) {
      if (onTheWay.has(real)) return notFollowed(rel) // a cycle
      onTheWay.add(real)
    }
    const entries = fs.readdirSync(abs, { withFileTypes: true })
    const children = []
    for (const e of entries) {
      let isDir = e.isDirectory()
      if (!isDir && !e.isFile()) {
        const childRel = rel ? `${rel}/${e.name}` : e.name
        const target = e.isSymbolicLink() && options.followSymlinks ? fs.statSync(base + childRel, { throwIfNoEntry: false }) : undefined
        if (!target || (!target.isFile() && !target.isDirectory())) {
          notFollowed(childRel)
          continue
        }
        isDir = target.isDirectory()
      }
      children.push({ name: e.name, isDir, key: isDir ? `${e.name}/` : e.name })
    }
    children.sort((a, b) => comparePaths(a.key, b.key))
    for (const c of children) {
      const childRel = rel ? `${rel}/${c.name}` : c.name
      if (c.isDir) visit(childRel)
      else {
        const st = fs.statSync(base + childRel, { throwIfNoEntry: false })
        if (st?.isFile()) out.push(childRel, st)
      }
    }
    if (options.followSymlinks) onTheWay.delete(real)
  }
  visit('')
  return out
}
