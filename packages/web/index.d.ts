/** The built app's folder (index.html, app.js, app.css and their gzipped copies), which `varve serve` serves at `/ui/`. */
export declare const uiAssetsDir: string
