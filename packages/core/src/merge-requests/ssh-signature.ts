import { spawn } from 'node:child_process'
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto'
import { VarveError, ErrorCodes } from '../errors/varve-error.js'

/**
 * SSH signatures as `ssh-keygen -Y sign` makes them and git signs commits with (the SSHSIG format,
 * PROTOCOL.sshsig in OpenSSH): the armored blob names the public key, a namespace and the hash of
 * the message. Verification parses the wire format and hands the key and signature to node:crypto
 * (Ed25519; RSA with SHA-256/512): no cryptography is written here.
 */
export const APPROVAL_NAMESPACE = 'varve-approval'
const MAGIC = Buffer.from('SSHSIG')
const MAX_SIGNATURE_CHARS = 16 * 1024

/** Reads SSH wire-format fields: uint32 lengths before strings. */
class WireReader {
  #at = 0
  constructor(private readonly buf: Buffer) {}
  u32(): number {
    if (this.#at + 4 > this.buf.length) throw new Error('truncated')
    const v = this.buf.readUInt32BE(this.#at)
    this.#at += 4
    return v
  }
  bytes(): Buffer {
    const n = this.u32()
    if (n > this.buf.length - this.#at) throw new Error('truncated')
    const b = this.buf.subarray(this.#at, this.#at + n)
    this.#at += n
    return b
  }
  text(): string {
    return this.bytes().toString('latin1')
  }
  raw(n: number): Buffer {
    if (this.#at + n > this.buf.length) throw new Error('truncated')
    const b = this.buf.subarray(this.#at, this.#at + n)
    this.#at += n
    return b
  }
  get done(): boolean {
    return this.#at === this.buf.length
  }
}

const wireString = (b: Buffer | string): Buffer => {
  const body = typeof b === 'string' ? Buffer.from(b, 'latin1') : b
  const len = Buffer.alloc(4)
  len.writeUInt32BE(body.length)
  return Buffer.concat([len, body])
}

const b64url = (b: Buffer) => b.toString('base64url')
const unsigned = (b: Buffer) => (b.length > 1 && b[0] === 0 ? b.subarray(1) : b) // an mpint's sign byte

/** A public key in SSH wire format (`ssh-ed25519 AAAA...`'s decoded base64) as a node:crypto key. */
export function sshPublicKey(blob: Buffer): { type: string; key: KeyObject; fingerprint: string } {
  const r = new WireReader(blob)
  const type = r.text()
  let key: KeyObject
  if (type === 'ssh-ed25519') {
    const x = r.bytes()
    if (x.length !== 32) throw new Error('an Ed25519 key is 32 bytes')
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(x) }, format: 'jwk' })
  } else if (type === 'ssh-rsa') {
    const e = unsigned(r.bytes())
    const n = unsigned(r.bytes())
    if (n.length * 8 < 2048 - 8) throw new Error('RSA keys shorter than 2048 bits are refused')
    key = createPublicKey({ key: { kty: 'RSA', n: b64url(n), e: b64url(e) }, format: 'jwk' })
  } else throw new Error(`key type ${type.slice(0, 40)} is not supported (ssh-ed25519 and ssh-rsa are)`)
  if (!r.done) throw new Error('trailing bytes after the key')
  return { type, key, fingerprint: `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}` }
}

export interface ParsedSignature {
  /** The signer's public key, SSH wire format. */
  readonly publicKey: Buffer
  readonly namespace: string
  readonly hashAlgorithm: 'sha256' | 'sha512'
  readonly signatureType: string
  readonly signature: Buffer
}

/** Parses an armored SSHSIG signature; INVALID_ARGUMENT when it is not one. */
export function parseSshSignature(armored: string): ParsedSignature {
  const bad = (why: string) =>
    new VarveError(ErrorCodes.INVALID_ARGUMENT, `not an SSH signature (${why}): sign with ssh-keygen -Y sign`, { details: { reason: 'signature' } })
  if (typeof armored !== 'string' || armored.length > MAX_SIGNATURE_CHARS) throw bad('expected the armored text of ssh-keygen -Y sign')
  const m = /-----BEGIN SSH SIGNATURE-----([\sA-Za-z0-9+/=]+)-----END SSH SIGNATURE-----/.exec(armored)
  if (!m) throw bad('no BEGIN/END SSH SIGNATURE block')
  try {
    const r = new WireReader(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'))
    if (!r.raw(6).equals(MAGIC)) throw new Error('bad magic')
    const version = r.u32()
    if (version !== 1) throw new Error(`version ${version}`)
    const publicKey = Buffer.from(r.bytes())
    const namespace = r.text()
    r.bytes() // reserved
    const hashAlgorithm = r.text()
    if (hashAlgorithm !== 'sha256' && hashAlgorithm !== 'sha512') throw new Error(`hash ${hashAlgorithm.slice(0, 20)}`)
    const sig = new WireReader(r.bytes())
    const signatureType = sig.text()
    const signature = Buffer.from(sig.bytes())
    return { publicKey, namespace, hashAlgorithm, signatureType, signature }
  } catch (err) {
    if (err instanceof VarveError) throw err
    throw bad((err as Error).message)
  }
}

/** Whether `armored` is a valid signature of `message` in `namespace` by the key it names. */
export function verifySshSignature(parsed: ParsedSignature, message: string | Buffer, namespace: string): boolean {
  if (parsed.namespace !== namespace) return false
  let key: ReturnType<typeof sshPublicKey>
  try {
    key = sshPublicKey(parsed.publicKey)
  } catch {
    return false
  }
  const digest = createHash(parsed.hashAlgorithm).update(message).digest()
  const signed = Buffer.concat([MAGIC, wireString(namespace), wireString(''), wireString(parsed.hashAlgorithm), wireString(digest)])
  try {
    if (key.type === 'ssh-ed25519') return parsed.signatureType === 'ssh-ed25519' && verify(null, signed, key.key, parsed.signature)
    // ssh-rsa signatures use SHA-1, which OpenSSH itself no longer accepts for SSHSIG
    if (parsed.signatureType === 'rsa-sha2-512') return verify('sha512', signed, key.key, parsed.signature)
    if (parsed.signatureType === 'rsa-sha2-256') return verify('sha256', signed, key.key, parsed.signature)
  } catch {
    return false
  }
  return false
}

/** One line of an allowed-signers file (git's `gpg.ssh.allowedSignersFile` format). */
export interface AllowedSigner {
  readonly principals: readonly string[]
  readonly namespaces?: readonly string[]
  readonly validAfter?: number
  readonly validBefore?: number
  readonly publicKey: Buffer
  readonly line: number
}

/**
 * Parses an allowed-signers file: `principals [options] keytype base64-key [comment]` per line,
 * principals comma-separated (`*` and `?` wildcards), options `namespaces="a,b"`, `valid-after=`,
 * `valid-before=` (YYYYMMDD[HHMM[SS]], UTC). Lines it cannot use (cert-authority, other key types)
 * are skipped: they grant nothing.
 */
export function parseAllowedSigners(text: string): AllowedSigner[] {
  const out: AllowedSigner[] = []
  text.split('\n').forEach((rawLine, i) => {
    const line = rawLine.trim()
    if (!line || line.startsWith('#')) return
    const tokens = tokenize(line)
    if (tokens.length < 3) return
    const principals = tokens[0]!.split(',').filter(Boolean)
    let at = 1
    let namespaces: string[] | undefined
    let validAfter: number | undefined
    let validBefore: number | undefined
    let usable = true
    // options until the key type
    while (at < tokens.length && !/^(ssh-|ecdsa-|sk-)/.test(tokens[at]!)) {
      for (const opt of splitOptions(tokens[at]!)) {
        const [name, value] = splitOption(opt)
        if (name === 'namespaces') namespaces = value.split(',')
        else if (name === 'valid-after') validAfter = sshTime(value)
        else if (name === 'valid-before') validBefore = sshTime(value)
        else usable = false // cert-authority and anything unknown: not for us
      }
      at++
    }
    const type = tokens[at]
    const b64 = tokens[at + 1]
    if (!usable || !type || !b64) return
    const publicKey = Buffer.from(b64, 'base64')
    try {
      if (sshPublicKey(publicKey).type !== type) return
    } catch {
      return
    }
    if ((validAfter !== undefined && Number.isNaN(validAfter)) || (validBefore !== undefined && Number.isNaN(validBefore))) return
    out.push({
      principals,
      publicKey,
      line: i + 1,
      ...(namespaces ? { namespaces } : {}),
      ...(validAfter !== undefined ? { validAfter } : {}),
      ...(validBefore !== undefined ? { validBefore } : {}),
    })
  })
  return out
}

function tokenize(line: string): string[] {
  const out: string[] = []
  let cur = ''
  let quoted = false
  for (const ch of line) {
    if (ch === '"') quoted = !quoted
    if (!quoted && /\s/.test(ch)) {
      if (cur) out.push(cur)
      cur = ''
    } else cur += ch
  }
  if (cur) out.push(cur)
  return out
}

const splitOptions = (s: string) => s.match(/(?:[^,"]|"[^"]*")+/g) ?? []
function splitOption(opt: string): [string, string] {
  const eq = opt.indexOf('=')
  if (eq < 0) return [opt.toLowerCase(), '']
  return [opt.slice(0, eq).toLowerCase(), opt.slice(eq + 1).replace(/^"|"$/g, '')]
}

function sshTime(v: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?Z?$/.exec(v)
  if (!m) return NaN
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0))
}

/** A principal pattern of an allowed-signers line (`*`, `?`), matched whole; `!` negates, as OpenSSH. */
export function principalMatches(patterns: readonly string[], name: string): boolean {
  let matched = false
  for (const p of patterns) {
    const negated = p.startsWith('!')
    const glob = negated ? p.slice(1) : p
    // Linear: a greedy wildcard match with one backtrack point (no regex from the file).
    if (wildcard(glob, name)) {
      if (negated) return false
      matched = true
    }
  }
  return matched
}

function wildcard(p: string, s: string): boolean {
  let i = 0
  let j = 0
  let star = -1
  let mark = 0
  while (j < s.length) {
    if (i < p.length && (p[i] === '?' || p[i] === s[j])) {
      i++
      j++
    } else if (i < p.length && p[i] === '*') {
      star = i++
      mark = j
    } else if (star >= 0) {
      i = star + 1
      j = ++mark
    } else return false
  }
  while (p[i] === '*') i++
  return i === p.length
}

/**
 * The signer allowed for `principal` whose key made `signature` of `message`, or why there is none.
 * `at` is when the approval was made (for valid-after / valid-before).
 */
export function checkSignature(
  signers: readonly AllowedSigner[],
  principal: string,
  signature: string | undefined,
  message: string,
  at: number,
): { ok: true; fingerprint: string } | { ok: false; reason: string } {
  if (!signature) return { ok: false, reason: 'not signed' }
  let parsed: ParsedSignature
  try {
    parsed = parseSshSignature(signature)
  } catch (err) {
    return { ok: false, reason: (err as Error).message }
  }
  const candidates = signers.filter((s) => s.publicKey.equals(parsed.publicKey))
  const fingerprint = (() => {
    try {
      return sshPublicKey(parsed.publicKey).fingerprint
    } catch {
      return 'an unsupported key'
    }
  })()
  if (!candidates.length) return { ok: false, reason: `signed by ${fingerprint}, a key not in the allowed signers` }
  const forName = candidates.filter((s) => principalMatches(s.principals, principal))
  if (!forName.length) return { ok: false, reason: `signed by ${fingerprint}, which the allowed signers do not list for ${principal}` }
  const usable = forName.filter(
    (s) =>
      (!s.namespaces || s.namespaces.includes(APPROVAL_NAMESPACE)) &&
      (s.validAfter === undefined || at >= s.validAfter) &&
      (s.validBefore === undefined || at < s.validBefore),
  )
  if (!usable.length) return { ok: false, reason: `the key ${fingerprint} of ${principal} is not valid for approvals at that time or namespace` }
  if (!verifySshSignature(parsed, message, APPROVAL_NAMESPACE))
    return { ok: false, reason: `the signature by ${fingerprint} does not match this approval (another request, head or reviewer)` }
  return { ok: true, fingerprint }
}

/**
 * Signs `message` with `ssh-keygen -Y sign` (as git does): `keyFile` is a private key, or a public
 * key whose private half is in ssh-agent. Needs OpenSSH >= 8.2 on PATH.
 */
export function signWithSshKeygen(message: string, keyFile: string, namespace = APPROVAL_NAMESPACE): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh-keygen', ['-Y', 'sign', '-f', keyFile, '-n', namespace, '-q'], { stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    child.on('error', (e) =>
      reject(
        new VarveError(ErrorCodes.INVALID_ARGUMENT, `cannot run ssh-keygen to sign (${(e as Error).message}): install OpenSSH 8.2 or later`, {
          details: { reason: 'signing' },
        }),
      ),
    )
    child.on('close', (code) => {
      if (code === 0 && out.includes('BEGIN SSH SIGNATURE')) resolve(out)
      else
        reject(
          new VarveError(ErrorCodes.INVALID_ARGUMENT, `ssh-keygen could not sign with ${keyFile}: ${err.trim().split('\n')[0] || `exit ${code}`}`, {
            details: { reason: 'signing', key: keyFile },
          }),
        )
    })
    child.stdin.end(message)
  })
}
