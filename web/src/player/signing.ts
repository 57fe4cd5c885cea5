/**
 * Signed playback: the API signs a CloudFront custom policy over the video's whole media
 * prefix and returns its query (`Policy`, `Signature`, `Key-Pair-Id`). Every request the
 * player makes for the video (rendition playlists, init segments, media segments, the
 * storyboard sprite) carries that same query.
 */

const SIGNING_PARAM = 'Key-Pair-Id'

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
