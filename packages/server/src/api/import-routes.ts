import { ApiError, actor, authorship, jsonBody, need, repoOf, route, str } from './api-kit.js'

// Imports (issue 25, decision 0017): the server reads another bucket with its own credentials, so an
// import needs `admin` on the branch as well as `commit`: a key that may only commit must not turn
// the server into a reader of every bucket it can reach. Named sources are admin-only too.

export function registerImportRoutes(): void {
  route(
    'POST',
    '/repositories/{repo}/branches/{branch*}/imports',
    async (a, p) => {
      need(a, 'commit', p.repo!, p.branch!)
      need(a, 'admin', p.repo!, p.branch!)
      const body = await jsonBody(a)
      const mode = str(body.mode, 'mode', true) ?? 'merge'
      if (mode !== 'merge' && mode !== 'replace') throw new ApiError(400, 'INVALID_ARGUMENT', 'mode is merge or replace')
      for (const flag of ['dryRun', 'commit', 'hash', 'copy'] as const)
        if (body[flag] !== undefined && typeof body[flag] !== 'boolean') throw new ApiError(400, 'INVALID_ARGUMENT', `${flag} must be true or false`)
      const repo = await repoOf(a, p.repo!)
      const message = str(body.message, 'message', true)
      const prefix = str(body.prefix, 'prefix', true)
      const inventory = str(body.inventory, 'inventory', true)
      // A manifest by URL only: a path would have the server read its own files for a client.
      if (inventory !== undefined && !/^[a-z][a-z0-9+.-]*:\/\/[^/]+\/./i.test(inventory))
        throw new ApiError(400, 'INVALID_ARGUMENT', 'inventory is the URL of a manifest.json (s3://bucket/key)')
      const summary = await repo.importObjects(p.branch!, {
        source: str(body.source, 'source')!,
        path: str(body.path, 'path', true) ?? '',
        mode,
        dryRun: body.dryRun === true,
        commit: body.commit !== false,
        hash: body.hash === true,
        copy: body.copy === true,
        ...(prefix !== undefined ? { prefix } : {}),
        ...(inventory !== undefined ? { inventory } : {}),
        ...(message !== undefined ? { message } : {}),
        ...authorship(a, body),
      })
      return summary
    },
    201,
  )
  route('GET', '/repositories/{repo}/sources', async (a, p) => {
    need(a, 'admin', p.repo!)
    return { sources: await (await repoOf(a, p.repo!)).listSources() }
  })
  route('PUT', '/repositories/{repo}/sources/{name}', async (a, p) => {
    need(a, 'admin', p.repo!)
    const body = await jsonBody(a)
    const endpoint = str(body.endpoint, 'endpoint', true)
    const region = str(body.region, 'region', true)
    if (body.forcePathStyle !== undefined && typeof body.forcePathStyle !== 'boolean')
      throw new ApiError(400, 'INVALID_ARGUMENT', 'forcePathStyle must be true or false')
    return (await repoOf(a, p.repo!)).addSource(p.name!, str(body.url, 'url')!, {
      ...(endpoint !== undefined ? { endpoint } : {}),
      ...(region !== undefined ? { region } : {}),
      ...(body.forcePathStyle !== undefined ? { forcePathStyle: body.forcePathStyle as boolean } : {}),
    })
  })
  route('DELETE', '/repositories/{repo}/sources/{name}', async (a, p) => {
    need(a, 'admin', p.repo!)
    await (await repoOf(a, p.repo!)).removeSource(p.name!)
    return { deleted: p.name, by: actor(a) }
  })
}
