import { describe, expect, it } from 'vitest'
import { parseListing } from '../src/s3-list-xml.js'

// The listing parser an import reads pages with (the real answers of MinIO are compared with the
// SDK's parse in test/import.test.ts); here the shapes S3 documents, and what it must hand back.

const v2 = (body: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${body}</ListBucketResult>`

describe('parseListing', () => {
  it('reads a ListObjectsV2 page: keys with entities, sizes, ETags, dates, folders, the next token', () => {
    const page = parseListing(
      v2(
        '<Name>b</Name><Prefix>p/</Prefix><KeyCount>3</KeyCount><MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>' +
          '<Contents><Key>p/a&amp;b &lt;c&gt; &#34;q&#34; &#x1F600;</Key><LastModified>2026-12-07T12:00:00.000Z</LastModified><ETag>&quot;abc&quot;</ETag><Size>64</Size><Owner><ID>x</ID></Owner><StorageClass>STANDARD</StorageClass></Contents>' +
          '<Contents><Key>p/z</Key><LastModified>2026-12-07T12:00:01.000Z</LastModified><ETag>"d-2"</ETag><Size>0</Size></Contents>' +
          '<CommonPrefixes><Prefix>p/dir/</Prefix></CommonPrefixes><NextContinuationToken>tok&amp;en</NextContinuationToken>',
      ),
      false,
    )
    expect(page).toEqual({
      objects: [
        { key: 'p/a&b <c> "q" 😀', size: 64, etag: 'abc', lastModified: Date.parse('2026-12-07T12:00:00.000Z') },
        { key: 'p/z', size: 0, etag: 'd-2', lastModified: Date.parse('2026-12-07T12:00:01.000Z') },
      ],
      prefixes: ['p/dir/'],
      truncated: true,
      nextToken: 'tok&en',
    })
  })

  it('reads a ListObjectVersions page: the latest version of each key, never a delete marker or an older version', () => {
    const page = parseListing(
      '<ListVersionsResult><IsTruncated>true</IsTruncated><NextKeyMarker>k3</NextKeyMarker><NextVersionIdMarker>v9</NextVersionIdMarker>' +
        '<Version><Key>k1</Key><VersionId>v2</VersionId><IsLatest>true</IsLatest><LastModified>2026-12-07T12:00:00.000Z</LastModified><ETag>"e2"</ETag><Size>2</Size></Version>' +
        '<Version><Key>k1</Key><VersionId>v1</VersionId><IsLatest>false</IsLatest><LastModified>2026-12-06T12:00:00.000Z</LastModified><ETag>"e1"</ETag><Size>1</Size></Version>' +
        '<DeleteMarker><Key>k2</Key><VersionId>v5</VersionId><IsLatest>true</IsLatest></DeleteMarker>' +
        '<Version><Key>k2</Key><VersionId>v4</VersionId><IsLatest>false</IsLatest><ETag>"e4"</ETag><Size>4</Size></Version>' +
        '<Version><Key>k3</Key><VersionId>null</VersionId><IsLatest>true</IsLatest><ETag>"e5"</ETag><Size>5</Size></Version>' +
        '</ListVersionsResult>',
      true,
    )
    expect(page).toEqual({
      objects: [
        { key: 'k1', size: 2, etag: 'e2', lastModified: Date.parse('2026-12-07T12:00:00.000Z'), versionId: 'v2' },
        { key: 'k3', size: 5, etag: 'e5', lastModified: 0 },
      ],
      prefixes: [],
      truncated: true,
      nextKeyMarker: 'k3',
      nextVersionIdMarker: 'v9',
    })
  })

  it('hands back to the SDK what it cannot read: CDATA, another document, a broken or odd page', () => {
    expect(parseListing(v2('<Contents><Key><![CDATA[a]]></Key><Size>1</Size></Contents>'), false)).toBeUndefined()
    expect(parseListing('<Error><Code>AccessDenied</Code></Error>', false)).toBeUndefined()
    expect(parseListing(v2('<Contents><Key>a</Key><Size>1</Size>'), false)).toBeUndefined()
    expect(parseListing(v2('<Contents><Key>a</Key><Size>-1</Size></Contents>'), false)).toBeUndefined()
    expect(parseListing(v2('<Contents><Size>1</Size></Contents>'), false)).toBeUndefined()
    expect(parseListing(v2('<IsTruncated>false</IsTruncated>'), false)).toEqual({ objects: [], prefixes: [], truncated: false })
  })
})
