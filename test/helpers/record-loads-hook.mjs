// The resolve hook of record-loads.mjs: appends each resolved URL to the record file.
import fs from 'node:fs'

let out
export function initialize(data) {
  out = data.out
}

export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context)
  fs.appendFileSync(out, resolved.url + '\n')
  return resolved
}
