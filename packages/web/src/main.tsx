import { render } from 'preact'
import { App } from './app.js'
import { onKeyDown } from './keyboard.js'
import { onLinkClick } from './router.js'

document.addEventListener('click', onLinkClick)
document.addEventListener('keydown', onKeyDown)
render(<App />, document.getElementById('app')!)
