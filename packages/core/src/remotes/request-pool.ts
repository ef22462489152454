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

/**
 * At most `budget` bytes held at once by the callers (one caller may exceed it alone, so nothing
 * larger than the budget waits forever). Callers are served in arrival order.
 */
export class ByteBudget {
  #held = 0
  readonly #waiting: { bytes: number; go: () => void }[] = []

  constructor(private readonly budget: number) {}

  async run<T>(bytes: number, work: () => Promise<T>): Promise<T> {
    // An admitted waiter's bytes are counted when it is admitted (#admit), before it resumes.
    if (this.#waiting.length || (this.#held > 0 && this.#held + bytes > this.budget)) await new Promise<void>((go) => this.#waiting.push({ bytes, go }))
    else this.#held += bytes
    try {
      return await work()
    } finally {
      this.#held -= bytes
      this.#admit()
    }
  }

  #admit(): void {
    while (this.#waiting.length) {
      const next = this.#waiting[0]!
      if (this.#held > 0 && this.#held + next.bytes > this.budget) return
      this.#waiting.shift()
      this.#held += next.bytes
      next.go()
    }
  }
}
