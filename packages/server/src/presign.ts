import { Hash } from '@smithy/hash-node'
import { SignatureV4 } from '@smithy/signature-v4'
import type { AccessKey } from './config.js'

/**
 * A presigned GET of this gateway's S3 API (`/<bucket>/<key>`, SigV4 in the query), signed with the
 * asking key's own secret: a link that reads one object for `expiresIn` seconds with that key's
 * grants, for a tool that takes a URL (the web UI's "presigned link").
 */
export async function presignGatewayGet(base: string, key: AccessKey, region: string, bucket: string, objectKey: string, expiresIn: number): Promise<string> {
  const url = new URL(base)
  const path = `/${encodeURIComponent(bucket)}/${objectKey.split('/').map(encodeURIComponent).join('/')}`
  const signer = new SignatureV4({
    credentials: { accessKeyId: key.accessKey, secretAccessKey: key.secretKey },
    region,
    service: 's3',
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: false,
  })
  const signed = await signer.presign(
    {
      method: 'GET',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path,
      headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      query: {},
    },
    // (S3 presigned GETs sign no payload: the verifier, as S3, takes UNSIGNED-PAYLOAD)
    { expiresIn },
  )
  const query = new URLSearchParams(signed.query as Record<string, string>)
  return `${url.origin}${path}?${query}`
}
