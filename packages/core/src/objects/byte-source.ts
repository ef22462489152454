import { VarveError, ErrorCodes } from '../errors/varve-error.js'

/** What `put` accepts: bytes, a string (UTF-8), a Node or web stream, or any async iterable of bytes. */
export type DataSource = Uint8Array | string | AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>

export function toChunks(source: DataSource): Uint8Array | AsyncIterable<Uint8Array> {
  if (typeof source === 'string') return Buffer.from(source, 'utf8')
  if (source instanceof Uint8Array) return source
  if (source && typeof (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') return source as AsyncIterable<Uint8Array>
  if (source && typeof (source as ReadableStream<Uint8Array>).getReader === 'function') return readWebStream(source as ReadableStream<Uint8Array>)
  throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'data must be bytes, a string, a stream or an async iterable of bytes')
}

async function* readWebStream(stream: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  const reader = stream.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      yield value
    }
  } finally {
    reader.releaseLock()
  }
}

/** Reads up to `limit` bytes; tells whether the source ended within them, and how to go on if not. */
export async function readHead(
  source: AsyncIterable<Uint8Array>,
  limit: number,
): Promise<{ head: Uint8Array[]; headBytes: number; rest: AsyncIterator<Uint8Array> | null }> {
  const it = source[Symbol.asyncIterator]()
  const head: Uint8Array[] = []
  let headBytes = 0
  while (headBytes < limit) {
    const { done, value } = await it.next()
    if (done) return { head, headBytes, rest: null }
    if (!(value instanceof Uint8Array)) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'stream chunks must be bytes (Uint8Array/Buffer)')
    head.push(value)
    headBytes += value.byteLength
  }
  return { head, headBytes, rest: it }
}
