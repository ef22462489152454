import { fileURLToPath } from 'node:url'

/** The built app's folder (index.html, app.js, app.css and their gzipped copies), which `varve serve` serves at `/ui/`. */
export const uiAssetsDir = fileURLToPath(new URL('./dist/', import.meta.url))
