import type { CheckDefinition } from '../check-types.js'
import { fileSize, maxChangedFiles, noDelete, pathPattern, requiredFiles } from './file-rules.js'
import { nullFraction } from './null-fraction.js'
import { parquetSchema } from './parquet-schema.js'
import { rowCount } from './row-count.js'
import { unique } from './unique.js'
import { webhook } from './webhook.js'

/** The built-in checks of declarative contracts, by `type`. */
export const CHECKS: Readonly<Record<string, CheckDefinition>> = {
  'parquet-schema': parquetSchema,
  'row-count': rowCount,
  'null-fraction': nullFraction,
  unique,
  'file-size': fileSize,
  'path-pattern': pathPattern,
  'required-files': requiredFiles,
  'no-delete': noDelete,
  'max-changed-files': maxChangedFiles,
  webhook,
}
