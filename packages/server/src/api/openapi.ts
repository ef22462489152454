// The JSON API described for clients and generators (served at /api/openapi.json).

const json = (schema: unknown) => ({ content: { 'application/json': { schema } } })
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const ok = (schema: unknown, status = '200') => ({
  [status]: { description: 'OK', ...json(schema) },
  default: { description: 'An error', ...json(ref('Error')) },
})
const repoParam = { name: 'repo', in: 'path', required: true, schema: { type: 'string' } }
const branchParam = {
  name: 'branch',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'a branch name (URL-encode a `/` in it or not: both work)',
}
const mrParam = { name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } }
const resolveRules = {
  type: 'array',
  description: 'per-path conflict rules, first match wins',
  items: {
    type: 'object',
    properties: { paths: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] }, take: { type: 'string', enum: ['source', 'dest'] } },
    required: ['paths', 'take'],
  },
}
const body = (properties: Record<string, unknown>, required: string[]) => ({ required: true, ...json({ type: 'object', properties, required }) })
const limit = { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1 } }
const authorField = {
  type: 'string',
  description: 'kept as the commit author (default: the access key); the access key is always the committer and the ref log actor',
}

export const OPENAPI = {
  openapi: '3.0.3',
  info: {
    title: 'Varve HTTP API',
    version: '1',
    description:
      'What S3 cannot say about a Varve repository: branches, commits, merges (with gate results and conflicts), reverts, diffs, history, tags, pins and gate checks. ' +
      'Objects are read and written through the S3 API of the same server (bucket = repository, key = <ref>/<path>). ' +
      'Objects can also be listed and read here (a browser cannot sign S3 requests without holding a secret). ' +
      'Authenticate with AWS Signature Version 4 or HTTP Basic (access key : secret key), or with the web UI\'s session cookie (POST /session), which needs the x-varve-csrf header on every request that changes something. Errors are { "error": { "code", "message", "details" } } with Varve\'s stable codes.',
  },
  servers: [{ url: '/api/v1' }],
  components: {
    securitySchemes: {
      basic: { type: 'http', scheme: 'basic' },
      sigv4: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'AWS4-HMAC-SHA256' },
      session: {
        type: 'apiKey',
        in: 'cookie',
        name: 'varve_session',
        description: "the web UI's login (POST /session); a request that changes something also sends the session's csrfToken as x-varve-csrf",
      },
    },
    schemas: {
      Error: {
        type: 'object',
        properties: {
          error: {
            type: 'object',
            properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object' } },
            required: ['code', 'message'],
          },
        },
      },
      Branch: {
        type: 'object',
        properties: { name: { type: 'string' }, head: { type: 'string' }, dirty: { type: 'boolean' }, protected: { type: 'boolean' } },
        required: ['name', 'head'],
      },
      Commit: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          parents: { type: 'array', items: { type: 'string' } },
          root: { type: 'string' },
          message: { type: 'string' },
          author: { type: 'string' },
          committer: { type: 'string', description: 'who made the commit when not the author: through varve serve, the access key' },
          metadata: { type: 'object' },
          createdAt: { type: 'integer' },
          generation: { type: 'integer' },
        },
        required: ['id', 'parents', 'message', 'author', 'createdAt'],
      },
      Change: {
        type: 'object',
        properties: { path: { type: 'string' }, type: { type: 'string', enum: ['added', 'removed', 'changed'] } },
        required: ['path', 'type'],
      },
      Tag: { type: 'object', properties: { name: { type: 'string' }, commit: { type: 'string' }, createdAt: { type: 'integer' } } },
      Pin: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          commit: { type: 'string' },
          ref: { type: 'string' },
          createdAt: { type: 'integer' },
          author: { type: 'string' },
        },
      },
      Entry: {
        type: 'object',
        properties: {
          path: { type: 'string' },
          address: { type: 'string', description: 'SHA-256 of the content (an identity address for an imported object not hashed)' },
          size: { type: 'integer' },
          lastModified: { type: 'integer' },
          contentType: { type: 'string' },
          metadata: { type: 'object', additionalProperties: { type: 'string' } },
          pack: { type: 'string' },
          offset: { type: 'integer' },
          external: { type: 'object', description: 'an imported object: its source, key and pinned identity' },
        },
        required: ['path', 'address', 'size', 'lastModified'],
      },
      Session: {
        type: 'object',
        properties: {
          accessKey: { type: 'string' },
          grants: { type: 'array', items: { type: 'object' } },
          csrfToken: { type: 'string' },
          expiresAt: { type: 'string', format: 'date-time' },
        },
      },
      MergeResult: { type: 'object', properties: { merged: { type: 'boolean' }, upToDate: { type: 'boolean' }, commit: ref('Commit') } },
    },
  },
  security: [{ basic: [] }, { sigv4: [] }, { session: [] }],
  paths: {
    '/session': {
      post: {
        summary: 'Log in (the web UI): access key and secret in, an HttpOnly SameSite=Strict session cookie out; JSON from this origin only',
        security: [],
        requestBody: body({ accessKey: { type: 'string' }, secretKey: { type: 'string' } }, ['accessKey', 'secretKey']),
        responses: ok(ref('Session')),
      },
      get: { summary: 'The logged-in session (401 when none)', security: [{ session: [] }], responses: ok(ref('Session')) },
      delete: { summary: 'Log out (needs x-varve-csrf); clears the cookie', security: [{ session: [] }], responses: ok({ type: 'object' }) },
    },
    '/repositories/{repo}/objects': {
      parameters: [
        repoParam,
        {
          name: 'ref',
          in: 'query',
          required: true,
          schema: { type: 'string' },
          description: 'a branch (with its uncommitted changes), tag, commit id or expression',
        },
        { name: 'prefix', in: 'query', schema: { type: 'string' } },
        { name: 'delimiter', in: 'query', schema: { type: 'string', enum: ['/'] }, description: 'group paths into folders at /' },
        { name: 'after', in: 'query', schema: { type: 'string' }, description: "the next page: the previous page's next" },
        limit,
      ],
      get: {
        summary: 'Objects (and with delimiter, folders) under a prefix at a ref, a page at a time, in path order',
        responses: ok({
          type: 'object',
          properties: {
            objects: { type: 'array', items: ref('Entry') },
            prefixes: { type: 'array', items: { type: 'string' } },
            truncated: { type: 'boolean' },
            next: { type: 'string' },
          },
        }),
      },
    },
    '/repositories/{repo}/objects/presign': {
      parameters: [
        repoParam,
        { name: 'ref', in: 'query', required: true, schema: { type: 'string' } },
        { name: 'path', in: 'query', required: true, schema: { type: 'string' } },
        { name: 'expires', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 604800 }, description: 'seconds (default 3600)' },
      ],
      get: {
        summary: "A presigned GET of the S3 API for one object, signed with the caller's own key (its grants, for a while)",
        responses: ok({ type: 'object', properties: { url: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } } }),
      },
    },
    '/repositories/{repo}/search': {
      parameters: [
        repoParam,
        { name: 'ref', in: 'query', required: true, schema: { type: 'string' } },
        { name: 'prefix', in: 'query', schema: { type: 'string' } },
        {
          name: 'glob',
          in: 'query',
          schema: { type: 'string', maxLength: 1000 },
          description: 'matched against the path after the prefix (`**/*.parquet`; default `**`)',
        },
        { name: 'after', in: 'query', schema: { type: 'string' } },
        limit,
      ],
      get: {
        summary: 'Paths at a ref that match a glob, a page at a time; at most 100,000 entries are looked at per request (`next` goes on)',
        responses: ok({
          type: 'object',
          properties: {
            paths: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, size: { type: 'integer' } } } },
            scanned: { type: 'integer' },
            truncated: { type: 'boolean' },
            next: { type: 'string' },
          },
        }),
      },
    },
    '/repositories/{repo}/branches/{branch}/cherry-picks': {
      parameters: [repoParam, branchParam],
      post: {
        summary: "Apply a commit's changes onto a branch (the commit must be readable by name or through a readable branch's history)",
        requestBody: body({ commit: { type: 'string' }, parent: { type: 'integer' }, author: authorField }, ['commit']),
        responses: ok(ref('Commit'), '201'),
      },
    },
    '/repositories/{repo}/reflog': {
      parameters: [repoParam, { name: 'ref', in: 'query', required: true, schema: { type: 'string' } }, limit],
      get: {
        summary: 'Every recorded move of a branch (or tag), newest first',
        responses: ok({ type: 'object', properties: { entries: { type: 'array', items: { type: 'object' } } } }),
      },
    },
    '/repositories/{repo}/blame': {
      parameters: [
        repoParam,
        { name: 'ref', in: 'query', required: true, schema: { type: 'string' } },
        { name: 'prefix', in: 'query', schema: { type: 'string' } },
        limit,
      ],
      get: {
        summary: 'For each path under a prefix, the commit that last changed it',
        responses: ok({ type: 'object', properties: { lines: { type: 'array', items: { type: 'object' } }, truncated: { type: 'boolean' } } }),
      },
    },
    '/repositories/{repo}/hook-runs': {
      parameters: [repoParam, { name: 'branch', in: 'query', schema: { type: 'string' } }, limit],
      get: {
        summary: 'Recent gate runs (of branches the key can read), with their findings',
        responses: ok({ type: 'object', properties: { runs: { type: 'array', items: { type: 'object' } } } }),
      },
    },
    '/repositories/{repo}/gc': {
      parameters: [repoParam],
      post: {
        summary: 'What a garbage collection would remove, with a retention (a dry run; admin): collect with varve gc',
        requestBody: body({ dryRun: { type: 'boolean', enum: [true] }, retainDays: { type: 'number', minimum: 0, maximum: 3650 } }, ['dryRun']),
        responses: ok({ type: 'object' }),
      },
    },
    '/repositories/{repo}/protections': {
      parameters: [repoParam],
      get: {
        summary: 'Protected branches and patterns with their rules',
        responses: ok({ type: 'object', properties: { protections: { type: 'array', items: { type: 'object' } } } }),
      },
    },
    '/repositories/{repo}/protections/{name}': {
      parameters: [repoParam, { name: 'name', in: 'path', required: true, schema: { type: 'string' }, description: 'a branch or a pattern (release-*)' }],
      put: {
        summary: 'Set the rules of a branch or pattern (admin on that name)',
        requestBody: body(
          {
            directCommits: { type: 'boolean' },
            deletion: { type: 'boolean' },
            reset: { type: 'boolean' },
            requiredApprovals: { type: 'integer', minimum: 0, maximum: 100 },
            dismissStaleApprovals: { type: 'boolean' },
            requireMergeRequest: { type: 'boolean' },
            signedApprovals: { type: 'boolean' },
          },
          [],
        ),
        responses: ok({ type: 'object' }),
      },
      delete: { summary: 'Remove the rules of a branch or pattern (admin on that name)', responses: ok({ type: 'object' }) },
    },
    '/repositories/{repo}/objects/stat': {
      parameters: [
        repoParam,
        { name: 'ref', in: 'query', required: true, schema: { type: 'string' } },
        { name: 'path', in: 'query', required: true, schema: { type: 'string' } },
      ],
      get: { summary: "One object's entry", responses: ok(ref('Entry')) },
    },
    '/repositories/{repo}/objects/content': {
      parameters: [
        repoParam,
        { name: 'ref', in: 'query', required: true, schema: { type: 'string' } },
        { name: 'path', in: 'query', required: true, schema: { type: 'string' } },
        { name: 'Range', in: 'header', schema: { type: 'string' }, description: 'bytes=a-b, bytes=a-, bytes=-n (206)' },
      ],
      get: {
        summary: 'The bytes, whole or a range, always as an attachment (application/octet-stream, nosniff, a sandbox policy); HEAD gives the size',
        responses: {
          '200': { description: 'the bytes', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
          '206': { description: 'a range of the bytes', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
          default: { description: 'An error', ...json(ref('Error')) },
        },
      },
    },
    '/repositories': {
      get: {
        summary: 'The repositories this key can see',
        responses: ok({ type: 'object', properties: { repositories: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } } } }),
      },
    },
    '/repositories/{repo}/branches': {
      parameters: [repoParam],
      get: { summary: 'List branches', responses: ok({ type: 'object', properties: { branches: { type: 'array', items: ref('Branch') } } }) },
      post: {
        summary: 'Create a branch (O(1))',
        requestBody: body({ name: { type: 'string' }, from: { type: 'string' } }, ['name']),
        responses: ok(ref('Branch'), '201'),
      },
    },
    '/repositories/{repo}/branches/{branch}': {
      parameters: [repoParam, branchParam],
      get: { summary: 'A branch: head, dirty, protection', responses: ok(ref('Branch')) },
      delete: { summary: 'Delete a branch and its uncommitted changes (admin)', responses: ok({ type: 'object' }) },
    },
    '/repositories/{repo}/branches/{branch}/commits': {
      parameters: [repoParam, branchParam],
      post: {
        summary: 'Commit what is staged on the branch (through its pre-commit gates)',
        requestBody: body({ message: { type: 'string' }, author: authorField, metadata: { type: 'object' }, allowEmpty: { type: 'boolean' } }, ['message']),
        responses: ok(ref('Commit'), '201'),
      },
    },
    '/repositories/{repo}/branches/{branch}/changes': {
      parameters: [repoParam, branchParam, { name: 'prefix', in: 'query', schema: { type: 'string' } }, limit],
      get: {
        summary: 'Uncommitted changes of the branch',
        responses: ok({ type: 'object', properties: { changes: { type: 'array', items: ref('Change') }, truncated: { type: 'boolean' } } }),
      },
    },
    '/repositories/{repo}/branches/{branch}/reverts': {
      parameters: [repoParam, branchParam],
      post: {
        summary: 'A new commit undoing a commit',
        requestBody: body({ commit: { type: 'string' }, parent: { type: 'integer' }, author: authorField }, ['commit']),
        responses: ok(ref('Commit'), '201'),
      },
    },
    '/repositories/{repo}/branches/{branch}/reset': {
      parameters: [repoParam, branchParam],
      post: {
        summary: 'Move the branch to a revision (rollback)',
        requestBody: body({ to: { type: 'string' }, discardChanges: { type: 'boolean' } }, ['to']),
        responses: ok(ref('Branch')),
      },
    },
    '/repositories/{repo}/merges': {
      parameters: [repoParam],
      post: {
        summary: 'Three-way merge through the pre-merge gates: 409 MERGE_CONFLICT (details.conflicts), 422 HOOK_FAILED (details.failures)',
        requestBody: body(
          {
            source: { type: 'string' },
            dest: { type: 'string' },
            strategy: { type: 'string', enum: ['fail', 'source-wins', 'dest-wins'] },
            message: { type: 'string' },
            author: authorField,
            dryRun: { type: 'boolean' },
            resolve: resolveRules,
          },
          ['source', 'dest'],
        ),
        responses: ok(ref('MergeResult')),
      },
    },
    '/repositories/{repo}/merge-requests': {
      parameters: [repoParam, { name: 'state', in: 'query', schema: { type: 'string', enum: ['open', 'merged', 'closed', 'all'] } }],
      get: {
        summary: 'Merge requests in id order (all, or one state)',
        responses: ok({ type: 'object', properties: { mergeRequests: { type: 'array', items: { type: 'object' } } } }),
      },
      post: {
        summary: 'Open a merge request (the author is the access key)',
        requestBody: body({ source: { type: 'string' }, dest: { type: 'string' }, title: { type: 'string' }, description: { type: 'string' } }, [
          'source',
          'dest',
          'title',
        ]),
        responses: ok({ type: 'object' }, '201'),
      },
    },
    '/repositories/{repo}/merge-requests/{id}': {
      parameters: [repoParam, mrParam],
      get: { summary: 'One merge request: heads, changes, conflicts, gate results (dry run), approvals, comments, history', responses: ok({ type: 'object' }) },
    },
    '/repositories/{repo}/merge-requests/{id}/approvals': {
      parameters: [repoParam, mrParam],
      post: {
        summary: 'Approve as the access key (action approve on the destination); head: only if the source is still there',
        requestBody: body(
          {
            head: { type: 'string' },
            signature: {
              type: 'string',
              description: 'an SSH signature (ssh-keygen -Y sign -n varve-approval) of the signing text, where the destination requires signed approvals',
            },
          },
          [],
        ),
        responses: ok({ type: 'object' }, '201'),
      },
      delete: { summary: "Withdraw the access key's approval", responses: ok({ type: 'object' }) },
    },
    '/repositories/{repo}/merge-requests/{id}/signing-text': {
      parameters: [repoParam, mrParam],
      get: {
        summary: 'What the access key signs to approve the request at its source head now',
        responses: ok({ type: 'object', properties: { text: { type: 'string' }, sourceHead: { type: 'string' } } }),
      },
    },
    '/repositories/{repo}/merge-requests/{id}/comments': {
      parameters: [repoParam, mrParam],
      post: {
        summary: 'Comment, on the request or one path',
        requestBody: body({ text: { type: 'string' }, path: { type: 'string' } }, ['text']),
        responses: ok({ type: 'object' }, '201'),
      },
    },
    '/repositories/{repo}/merge-requests/{id}/close': {
      parameters: [repoParam, mrParam],
      post: { summary: 'Close without merging (its author, or commit on the destination)', responses: ok({ type: 'object' }) },
    },
    '/repositories/{repo}/merge-requests/{id}/merge': {
      parameters: [repoParam, mrParam],
      post: {
        summary: 'Merge an approved request through the gates: 403 APPROVAL_REQUIRED, 409 MERGE_CONFLICT, 422 HOOK_FAILED, 409 MERGE_REQUEST_NOT_OPEN',
        requestBody: body({ strategy: { type: 'string', enum: ['fail', 'source-wins', 'dest-wins'] }, resolve: resolveRules, message: { type: 'string' } }, []),
        responses: ok({ type: 'object' }),
      },
    },
    '/repositories/{repo}/hooks/check': {
      parameters: [repoParam],
      post: {
        summary: 'Run the pre-merge gates of a merge without merging',
        requestBody: body({ source: { type: 'string' }, dest: { type: 'string' } }, ['source', 'dest']),
        responses: ok({ type: 'object', properties: { ok: { type: 'boolean' }, failures: { type: 'array', items: { type: 'object' } } } }),
      },
    },
    '/repositories/{repo}/diff': {
      parameters: [
        repoParam,
        { name: 'left', in: 'query', required: true, schema: { type: 'string' } },
        { name: 'right', in: 'query', required: true, schema: { type: 'string' } },
        { name: 'prefix', in: 'query', schema: { type: 'string' } },
        { name: 'after', in: 'query', schema: { type: 'string' }, description: 'the next page: the `next` of the previous one' },
        limit,
      ],
      get: {
        summary: 'Differences between two revisions, a page at a time',
        responses: ok({
          type: 'object',
          properties: {
            changes: { type: 'array', items: ref('Change') },
            truncated: { type: 'boolean' },
            next: { type: 'string', description: 'when truncated: pass as `after` for the next page' },
          },
        }),
      },
    },
    '/repositories/{repo}/diff/rows': {
      parameters: [
        repoParam,
        { name: 'left', in: 'query', required: true, schema: { type: 'string' } },
        { name: 'right', in: 'query', required: true, schema: { type: 'string' } },
        { name: 'path', in: 'query', required: true, schema: { type: 'string' }, description: 'a Parquet file, or a folder ending in / read as one table' },
        { name: 'key', in: 'query', schema: { type: 'string' }, description: 'key columns, comma separated (required unless positional)' },
        { name: 'positional', in: 'query', schema: { type: 'boolean' }, description: 'match row i with row i instead (a record key is then { row: i })' },
        { name: 'columns', in: 'query', schema: { type: 'string' } },
        limit,
      ],
      get: {
        summary: 'Rows added, removed and changed between two versions of a table, matched by key or by position',
        responses: ok({
          type: 'object',
          properties: {
            schema: { type: 'object' },
            rows: { type: 'array', items: { type: 'object' } },
            summary: { type: 'object' },
            truncated: { type: 'boolean' },
          },
        }),
      },
    },
    '/repositories/{repo}/log': {
      parameters: [
        repoParam,
        { name: 'ref', in: 'query', required: true, schema: { type: 'string' } },
        { name: 'prefix', in: 'query', schema: { type: 'string' } },
        { name: 'firstParent', in: 'query', schema: { type: 'boolean' } },
        limit,
      ],
      get: {
        summary: 'Commits reachable from a revision, newest first (with prefix: those that changed it)',
        responses: ok({ type: 'object', properties: { commits: { type: 'array', items: ref('Commit') }, truncated: { type: 'boolean' } } }),
      },
    },
    '/repositories/{repo}/commits/{rev}': {
      parameters: [repoParam, { name: 'rev', in: 'path', required: true, schema: { type: 'string' } }],
      get: { summary: 'One commit (any revision: branch, tag, id, main~2)', responses: ok(ref('Commit')) },
    },
    '/repositories/{repo}/tags': {
      parameters: [repoParam],
      get: { summary: 'List tags', responses: ok({ type: 'object', properties: { tags: { type: 'array', items: ref('Tag') } } }) },
      post: {
        summary: 'Tag a revision (admin)',
        requestBody: body({ name: { type: 'string' }, ref: { type: 'string' } }, ['name', 'ref']),
        responses: ok(ref('Tag'), '201'),
      },
    },
    '/repositories/{repo}/tags/{tag}': {
      parameters: [repoParam, { name: 'tag', in: 'path', required: true, schema: { type: 'string' } }],
      delete: { summary: 'Delete a tag (admin)', responses: ok({ type: 'object' }) },
    },
    '/repositories/{repo}/pins': {
      parameters: [repoParam],
      get: { summary: 'List pins', responses: ok({ type: 'object', properties: { pins: { type: 'array', items: ref('Pin') } } }) },
      post: {
        summary: 'Pin the commit a ref names now: gc keeps it (admin)',
        requestBody: body({ name: { type: 'string' }, ref: { type: 'string' } }, ['name', 'ref']),
        responses: ok(ref('Pin'), '201'),
      },
    },
    '/repositories/{repo}/pins/{name}': {
      parameters: [repoParam, { name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
      delete: { summary: 'Remove a pin (admin)', responses: ok({ type: 'object' }) },
    },
    '/repositories/{repo}/branches/{branch}/imports': {
      parameters: [repoParam, branchParam],
      post: {
        summary: "Import a bucket's objects without copying them (commit and admin on the branch: the server reads the source with its own credentials)",
        requestBody: body(
          {
            source: { type: 'string', description: 's3://bucket/prefix/ or a named source' },
            path: { type: 'string' },
            mode: { type: 'string', enum: ['merge', 'replace'] },
            dryRun: { type: 'boolean' },
            commit: { type: 'boolean' },
            hash: { type: 'boolean' },
            copy: { type: 'boolean', description: "copy the bytes into the repository's store instead of recording where they are" },
            prefix: { type: 'string', description: 'a key prefix under the source' },
            inventory: { type: 'string', description: 'the URL of an S3 Inventory manifest.json to read the objects from instead of listing them' },
            message: { type: 'string' },
            author: authorField,
          },
          ['source'],
        ),
        responses: ok({ type: 'object', description: 'listed, added, changed, removed, unchanged, bytes, skipped, commit' }, '201'),
      },
    },
    '/repositories/{repo}/sources': {
      parameters: [repoParam],
      get: { summary: 'Named import sources (admin)', responses: ok({ type: 'object' }) },
    },
    '/repositories/{repo}/sources/{name}': {
      parameters: [repoParam, { name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
      put: {
        summary: 'Add or change a named source (admin; never credentials)',
        requestBody: body({ url: { type: 'string' }, endpoint: { type: 'string' }, region: { type: 'string' }, forcePathStyle: { type: 'boolean' } }, ['url']),
        responses: ok({ type: 'object' }),
      },
      delete: { summary: 'Forget a named source (admin)', responses: ok({ type: 'object' }) },
    },
  },
} as const
