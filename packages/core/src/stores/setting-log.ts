import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import type { RefLogEntry } from './ref-store.js'

/** The ref a setting's log entries go under: stores find the setting's newest entry from it. */
export const settingLogRef = (key: string) => `setting:${key}`

/** A setting's compare-and-swap may carry a log entry only under its own ref. */
export function checkSettingLog(key: string, log: RefLogEntry): void {
  if (log.ref !== settingLogRef(key))
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `a log entry of setting ${key} must have ref ${settingLogRef(key)}, not ${log.ref}`, {
      details: { key, ref: log.ref },
    })
}
