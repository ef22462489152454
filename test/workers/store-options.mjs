// Repository options for a worker from its location and a JSON argument: `{ s3 | azure | gcs: ... }`
// (or, as older workers pass it, bare S3 options), after loading the location's adapter.
export async function storeOptions(location, json) {
  const scheme = /^([a-z0-9]+):\/\//i.exec(location)?.[1]?.toLowerCase()
  if (scheme === 's3') await import('@varve/s3-adapter')
  if (scheme === 'az') await import('@varve/azure-adapter')
  if (scheme === 'gs') await import('@varve/gcs-adapter')
  if (!json || json === '-') return {}
  const parsed = JSON.parse(json)
  return parsed.s3 || parsed.azure || parsed.gcs ? parsed : { s3: parsed }
}
