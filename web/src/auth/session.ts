/** The signed-in user's tokens, kept in sessionStorage (gone when the tab closes). */

export interface Session {
  idToken: string
  expiresAt: number // ms since the epoch
  username: string
  refreshToken?: string
}

const KEY = 'streamforge.session'
const EARLY_MS = 60_000 // treat a token as expired a minute early: requests take time

export function decodeJwtPayload(token: string): Record<string, unknown> {
  const part = token.split('.')[1]
  if (!part) throw new Error('not a JWT')
  const base64 = part.replace(/-/g, '+').replace(/_/g, '/')
  const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4)
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0))
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>
}

/** Who the token names, for display: Cognito's username, else email, else subject. */
export function usernameOf(token: string): string {
  const claims = decodeJwtPayload(token)
  for (const key of ['cognito:username', 'username', 'email', 'sub']) {
    const value = claims[key]
    if (typeof value === 'string' && value) return value
  }
  return 'signed in'
}

export function sessionFromToken(idToken: string, expiresInSeconds: number, now = Date.now()): Session {
  return { idToken, expiresAt: now + expiresInSeconds * 1000, username: usernameOf(idToken) }
}

export function isFresh(session: Session | null, now = Date.now()): boolean {
  return session !== null && session.expiresAt - EARLY_MS > now
}

export function loadSession(storage: Storage = sessionStorage): Session | null {
  try {
    const raw = storage.getItem(KEY)
    if (!raw) return null
    const value = JSON.parse(raw) as Session
    return typeof value.idToken === 'string' && typeof value.expiresAt === 'number' ? value : null
  } catch {
    return null
  }
}

export function saveSession(session: Session | null, storage: Storage = sessionStorage): void {
  if (session) storage.setItem(KEY, JSON.stringify(session))
  else storage.removeItem(KEY)
}
