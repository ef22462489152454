/** Where each kind of object lives in the block store (see docs/decisions/0001-storage-layout.md). */
export const keys = {
  manifest: 'varve.json',
  data: (address: string) => `data/${address.slice(0, 2)}/${address.slice(2, 4)}/${address}`,
  node: (id: string) => `tree/${id.slice(0, 2)}/${id}`,
  commit: (id: string) => `commit/${id.slice(0, 2)}/${id}`,
  commitPrefix: (hexPrefix: string) => `commit/${hexPrefix.slice(0, 2)}/${hexPrefix}`,
  /** Pointer from a content address to a large object kept where it was uploaded (stores without rename). */
  dataPointer: (address: string) => `data/${address.slice(0, 2)}/${address.slice(2, 4)}/${address}.blob`,
  blob: (name: string) => `blobs/${name}`,
  /** Many small objects in one stored object, read by range (docs/decisions/0007-packs.md). */
  pack: (id: string) => `packs/${id.slice(0, 2)}/${id}`,
  temp: (name: string) => `tmp/${name}`,
  /** Where garbage collection epoch `epoch` moved `key` before deleting it (docs/decisions/0006). */
  quarantine: (epoch: number, key: string) => `${keys.quarantineEpoch(epoch)}${key}`,
  quarantineEpoch: (epoch: number) => `quarantine/${String(epoch).padStart(10, '0')}/`,
} as const
