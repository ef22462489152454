// Keyboard navigation over the app's lists: ↓/j and ↑/k move between the rows' first links (the
// listing, the log, changes, search results), `/` goes to the page's first text field. Keys typed in
// a field are the field's.

const ROW_LINKS = 'table.listing tbody tr, ol.log li, ul.changes li, ul.requests li'

function typing(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null
  return !!el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName))
}

export function onKeyDown(e: KeyboardEvent): void {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return
  if (e.key === '/') {
    const field = document.querySelector<HTMLInputElement>('main input[type="text"], main input:not([type]), main textarea')
    if (field) {
      e.preventDefault()
      field.focus()
      field.select?.()
    }
    return
  }
  const down = e.key === 'ArrowDown' || e.key === 'j'
  const up = e.key === 'ArrowUp' || e.key === 'k'
  if (!down && !up) return
  const links = [...document.querySelectorAll<HTMLElement>(ROW_LINKS)]
    .map((row) => row.querySelector<HTMLAnchorElement>('a'))
    .filter((a): a is HTMLAnchorElement => !!a)
  if (!links.length) return
  const at = links.indexOf(document.activeElement as HTMLAnchorElement)
  const next = at < 0 ? (down ? 0 : links.length - 1) : Math.min(links.length - 1, Math.max(0, at + (down ? 1 : -1)))
  e.preventDefault()
  links[next]!.focus()
}
