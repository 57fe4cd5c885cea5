/** Hash routes (#/library, #/watch/ID): a static host needs no rewrites, and the Hosted UI's
 * callback URL stays the app's root. */

export interface Route {
  name: 'catalog' | 'signin' | 'upload' | 'library' | 'watch' | 'notfound'
  params: Record<string, string>
  query: URLSearchParams
  path: string
}

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/'
  const [pathPart = '/', queryPart = ''] = raw.split('?', 2)
  const path = pathPart.startsWith('/') ? pathPart : `/${pathPart}`
  const query = new URLSearchParams(queryPart)
  const segments = path.split('/').filter(Boolean).map(decodeURIComponent)
  const route = (name: Route['name'], params: Record<string, string> = {}): Route => ({
    name,
    params,
    query,
    path: raw,
  })
  if (segments.length === 0) return route('catalog')
  const [first, second] = segments
  if (segments.length === 1 && first === 'signin') return route('signin')
  if (segments.length === 1 && first === 'upload') return route('upload')
  if (segments.length === 1 && first === 'library') return route('library')
  if (segments.length === 2 && first === 'watch' && second) return route('watch', { id: second })
  return route('notfound')
}

export function watchHref(id: string): string {
  return `#/watch/${encodeURIComponent(id)}`
}

/** The share link of a video: this app's page for it, wherever the app is hosted. */
export function shareUrl(id: string, location: Pick<Location, 'origin' | 'pathname'>): string {
  return `${location.origin}${location.pathname}${watchHref(id)}`
}
