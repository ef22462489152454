/**
 * At most `width` requests in flight, in arrival order. A slot is held only for the request itself,
 * never while a caller waits on other work, so nested transfers cannot deadlock on it.
 */
export class RequestPool {
  #active = 0
  readonly #waiting: (() => void)[] = []

  constructor(
    private readonly width: number,
    private readonly signal?: AbortSignal,
  ) {}

  async run<T>(request: () => Promise<T>): Promise<T> {
    this.signal?.throwIfAborted()
    if (this.#active >= this.width) await new Promise<void>((resolve) => this.#waiting.push(resolve))
    else this.#active++
    try {
      this.signal?.throwIfAborted()
      return await request()
    } finally {
      const next = this.#waiting.shift()
      if (next) next()
      else this.#active--
    }
  }
}
