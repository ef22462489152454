import { Marked, type Tokens } from 'marked'

// Markdown from a repository, rendered for a folder page. Raw HTML in it is shown as text, links go
// only to http(s), mailto or relative addresses, and the page's policy runs no inline script anyway.

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
const safeHref = (href: string) => (/^(https?:|mailto:|#|\/|\.|[^:]*$)/i.test(href.trim()) ? href : '#')

const marked = new Marked({
  gfm: true,
  async: false,
  renderer: {
    html: (t: Tokens.HTML | Tokens.Tag) => escapeHtml(t.text),
    link(t: Tokens.Link) {
      return `<a href="${escapeHtml(safeHref(t.href))}" rel="noopener noreferrer nofollow">${this.parser.parseInline(t.tokens)}</a>`
    },
    // Images of a README point at other hosts or at paths of the repository; neither is fetched here.
    image: (t: Tokens.Image) => `<span class="md-image">[image: ${escapeHtml(t.text || t.href)}]</span>`,
  },
})

export function renderMarkdown(text: string): string {
  return marked.parse(text) as string
}
