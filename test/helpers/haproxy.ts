import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { freePort } from '@varve/s3-adapter/testing'

/** HAProxy (Debian's `haproxy`; `.ci/run` installs it) balancing round robin over `backends`. */
export interface Balancer {
  readonly url: string
  stop(): Promise<void>
}

export async function startHaproxy(dir: string, backends: readonly string[]): Promise<Balancer> {
  const port = await freePort()
  const config = [
    'global',
    '  maxconn 512',
    'defaults',
    '  mode http',
    '  timeout connect 5s',
    '  timeout client 300s',
    '  timeout server 300s',
    'frontend gateway',
    `  bind 127.0.0.1:${port}`,
    '  default_backend varve',
    'backend varve',
    '  balance roundrobin',
    // Every request of a kept-alive connection is balanced on its own, so one boto3 connection
    // spreads an upload's parts over the instances.
    '  option http-server-close',
    ...backends.map((b, i) => `  server s${i + 1} ${new URL(b).host}`),
    '',
  ].join('\n')
  const file = path.join(dir, 'haproxy.cfg')
  await fs.writeFile(file, config)
  const child: ChildProcess = spawn('haproxy', ['-f', file, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d) => (stderr += d))
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  child.on('error', (err) => (stderr += String(err)))
  for (let i = 0; ; i++) {
    if (await canConnect(port)) break
    if (child.exitCode !== null || i > 100) throw new Error(`haproxy did not start: ${stderr}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGTERM')
      await exited
    },
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1')
    s.once('connect', () => (s.destroy(), resolve(true)))
    s.once('error', () => resolve(false))
  })
}
