/**
 * Signed playback: the API signs one CloudFront custom policy per folder a player reads
 * (`hls/`, `dash/`, `thumbs/`) and returns `signedQuery` (`Policy`, `Signature`,
 * `Key-Pair-Id`) for `hls/`: every playlist and segment request carries it. Thumbnail URLs
 * come signed for `thumbs/`; the storyboard sprite reuses the query of its WebVTT.
 */

const SIGNING_PARAM = 'Key-Pair-Id'
const SIGNING_PARAMS = ['Policy', 'Signature', SIGNING_PARAM]

/** The signing part of a signed URL's query ('' when it carries none). */
export function signedQueryOf(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return ''
  }
  const params = parsed.searchParams
  if (!SIGNING_PARAMS.every((name) => params.has(name))) return ''
  return SIGNING_PARAMS.map((name) => `${name}=${encodeURIComponent(params.get(name) ?? '')}`).join('&')
}

/** `url` with the signed query added, unless it already carries a signature. Only URLs on
 * `origin` (the CDN's) are signed: the signature never goes to another host. */
export function withSignature(url: string, signedQuery: string, origin: string): string {
  if (!signedQuery) return url
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return url
  }
  if (parsed.origin !== origin || parsed.searchParams.has(SIGNING_PARAM)) return url
  const query = signedQuery.replace(/^\?/, '')
  const hash = parsed.hash
  parsed.hash = ''
  const base = parsed.toString()
  return `${base}${parsed.search ? '&' : '?'}${query}${hash}`
}

export function originOf(url: string): string {
  return new URL(url).origin
}

/** `url` with a `v` parameter of `now`, so the browser's HTTP cache (the master carries
 * `max-age`) never serves a master older than the page: one rewritten for new captions shows
 * them at once. The signed policy's `*` covers the parameter; CloudFront's cache key leaves
 * it out, so the CDN still caches. */
export function freshUrl(url: string, now: number = Date.now()): string {
  const [base = url, hash] = url.split('#', 2)
  // Appended as text: re-serialising the query would re-encode the signature.
  const fresh = `${base}${base.includes('?') ? '&' : '?'}v=${now}`
  return hash === undefined ? fresh : `${fresh}#${hash}`
}
