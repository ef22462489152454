import { render } from 'preact'
import { App } from './app.js'
import { onLinkClick } from './router.js'

document.addEventListener('click', onLinkClick)
render(<App />, document.getElementById('app')!)
