/**
 * The parent's Node options for a worker thread, less `--input-type`: a worker started from a
 * program run as `node --input-type=module -e ...` would otherwise refuse to start (a file worker:
 * "--input-type can only be used with string input") or read CommonJS source as a module (an eval'd one).
 */
export function workerExecArgv(): string[] {
  const out: string[] = []
  const argv = process.execArgv
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--input-type') i++
    else if (!argv[i]!.startsWith('--input-type=')) out.push(argv[i]!)
  }
  return out
}
