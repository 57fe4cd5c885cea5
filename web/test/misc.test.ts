import { describe, expect, it } from 'vitest'

import { redirectUri } from '../src/auth/auth'
import { base64Url, codeChallenge } from '../src/auth/pkce'
import {
  decodeJwtPayload,
  isFresh,
  loadSession,
  saveSession,
  sessionFromToken,
  usernameOf,
} from '../src/auth/session'
import { formatBytes, formatClock, formatTimeLeft, parseTags } from '../src/format'
import { safeNext } from '../src/pages/signin'
import { parseRoute, shareUrl } from '../src/router'
import { isSettled, statusView } from '../src/status'

function jwt(claims: Record<string, unknown>): string {
  const part = (o: unknown) => base64Url(new TextEncoder().encode(JSON.stringify(o)))
  return `${part({ alg: 'RS256' })}.${part(claims)}.sig`
}

describe('format', () => {
  it('formats sizes, clocks and times left', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(3_320_000)).toBe('3.32 MB')
    expect(formatBytes(53_687_091_200)).toBe('53.7 GB')
    expect(formatClock(75)).toBe('1:15')
    expect(formatClock(3725)).toBe('1:02:05')
    expect(formatTimeLeft(12.2)).toBe('13 s')
    expect(formatTimeLeft(185)).toBe('3 min 5 s')
    expect(formatTimeLeft(3840)).toBe('1 h 4 min')
    expect(parseTags(' a, b ,, a,c ')).toEqual(['a', 'b', 'c'])
  })
})

describe('status', () => {
  const entry = (stage: string, outcome = 'SUCCEEDED') => ({
    stage,
    outcome,
    startedAt: '',
    endedAt: '',
    message: '',
    executionArn: null,
    taskArn: null,
  })

  it('tells the processing stage from the processing log', () => {
    expect(statusView('PROCESSING', []).label).toBe('Analysing')
    expect(statusView('PROCESSING', [entry('claim'), entry('probe')]).label).toBe('Transcoding')
    expect(statusView('PROCESSING', [entry('probe'), entry('transcode:720p'), entry('finalise')]).stage).toBe(
      3,
    )
    expect(statusView('COMPLETED').tone).toBe('ok')
    expect(statusView('FAILED', [entry('probe'), entry('transcode:720p', 'FAILED')]).stage).toBe(2)
  })

  it('keeps polling only while a video can still change by itself', () => {
    expect(isSettled('PROCESSING')).toBe(false)
    expect(isSettled('PENDING_UPLOAD')).toBe(false)
    expect(isSettled('FAILED')).toBe(true)
  })
})

describe('routes', () => {
  it('parses hash routes', () => {
    expect(parseRoute('').name).toBe('catalog')
    expect(parseRoute('#/library').name).toBe('library')
    expect(parseRoute('#/watch/abc%2F1')).toMatchObject({ name: 'watch', params: { id: 'abc/1' } })
    expect(parseRoute('#/signin?next=%2Fupload').query.get('next')).toBe('/upload')
    expect(parseRoute('#/nope/x/y').name).toBe('notfound')
    expect(shareUrl('v1', { origin: 'https://app.example.com', pathname: '/' })).toBe(
      'https://app.example.com/#/watch/v1',
    )
  })

  it('only ever sends a user back to a route of this app after sign-in', () => {
    expect(safeNext('/upload')).toBe('#/upload')
    expect(safeNext('//evil.example.com')).toBe('#/library')
    expect(safeNext('https://evil.example.com')).toBe('#/library')
    expect(safeNext(null)).toBe('#/library')
  })
})

describe('auth', () => {
  it('reads the user from the token and keeps the session in session storage', () => {
    const token = jwt({ sub: 's1', 'cognito:username': 'alice', exp: 1 })
    expect(decodeJwtPayload(token).sub).toBe('s1')
    expect(usernameOf(token)).toBe('alice')
    expect(usernameOf(jwt({ sub: 's2', email: 'b@example.com' }))).toBe('b@example.com')
    const session = sessionFromToken(token, 3600, 1_000_000)
    expect(session.expiresAt).toBe(1_000_000 + 3_600_000)
    expect(isFresh(session, 1_000_000)).toBe(true)
    expect(isFresh(session, 1_000_000 + 3_590_000)).toBe(false) // a minute early
    saveSession(session, sessionStorage)
    expect(loadSession(sessionStorage)).toEqual(session)
    saveSession(null, sessionStorage)
    expect(loadSession(sessionStorage)).toBeNull()
  })

  it('makes the PKCE S256 challenge of RFC 7636', async () => {
    // RFC 7636, appendix B
    await expect(codeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).resolves.toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    )
  })

  it('comes back to the app root registered as the Cognito callback URL', () => {
    expect(redirectUri({ origin: 'https://d1.cloudfront.net', pathname: '/index.html' })).toBe(
      'https://d1.cloudfront.net/',
    )
    expect(redirectUri({ origin: 'http://127.0.0.1:5000', pathname: '/' })).toBe('http://127.0.0.1:5000/')
  })
})
