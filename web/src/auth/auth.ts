/**
 * Sign-in. On AWS: the Cognito Hosted UI, authorization code flow with PKCE; the ID token
 * goes to the API (its JWT authorizer checks issuer and audience = the app client). Offline:
 * the local issuer, through a token endpoint served beside the app by local/webapp.py.
 */

import type { AppConfig, CognitoAuthConfig } from '../config'
import { codeChallenge, randomString } from './pkce'
import { isFresh, loadSession, saveSession, type Session, sessionFromToken } from './session'

const PENDING_KEY = 'streamforge.pkce'

export class AuthError extends Error {
  override name = 'AuthError'
}

interface Pending {
  state: string
  verifier: string
  next: string
}

export class Auth {
  private session: Session | null
  private listeners = new Set<() => void>()

  constructor(
    readonly config: AppConfig,
    private readonly storage: Storage = sessionStorage,
    private readonly fetchFn: typeof fetch = (...args) => fetch(...args),
  ) {
    this.session = loadSession(storage)
  }

  get kind(): 'cognito' | 'local' {
    return this.config.auth.kind
  }

  get user(): string | null {
    return this.session && isFresh(this.session) ? this.session.username : null
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private set(session: Session | null): void {
    this.session = session
    saveSession(session, this.storage)
    for (const listener of this.listeners) listener()
  }

  /** A valid ID token, refreshed if need be; null when the user must sign in (again). */
  async token(): Promise<string | null> {
    const session = this.session
    if (session && isFresh(session)) return session.idToken
    if (session?.refreshToken && this.config.auth.kind === 'cognito') {
      try {
        const refreshed = await this.refresh(this.config.auth, session.refreshToken)
        this.set(refreshed)
        return refreshed.idToken
      } catch {
        // fall through: the refresh token expired or was revoked
      }
    }
    if (this.session) this.set(null)
    return null
  }

  /** The API said 401: the token is no good any more. */
  expire(): void {
    this.set(null)
  }

  async signInLocal(username: string): Promise<void> {
    if (this.config.auth.kind !== 'local') throw new AuthError('local sign-in is not enabled')
    const response = await this.fetchFn(this.config.auth.tokenUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username }),
    })
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>
    if (!response.ok || typeof body.idToken !== 'string') {
      throw new AuthError(typeof body.message === 'string' ? body.message : 'sign-in failed')
    }
    const seconds = typeof body.expiresIn === 'number' ? body.expiresIn : 3600
    this.set(sessionFromToken(body.idToken, seconds))
  }

  /** Leaves for the Hosted UI; it comes back to `${origin}${path}` with ?code&state. */
  async startCognitoSignIn(next: string, location: Location = window.location): Promise<void> {
    const auth = this.requireCognito()
    const pending: Pending = { state: randomString(16), verifier: randomString(48), next }
    this.storage.setItem(PENDING_KEY, JSON.stringify(pending))
    const url = new URL('/oauth2/authorize', auth.authUrl)
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: auth.clientId,
      redirect_uri: redirectUri(location),
      scope: auth.scopes.join(' '),
      state: pending.state,
      code_challenge_method: 'S256',
      code_challenge: await codeChallenge(pending.verifier),
    }).toString()
    location.assign(url.toString())
  }

  /** On the way back from the Hosted UI: trades the code for tokens. Returns the route to
   * open next, or null when the URL carries no sign-in response. */
  async completeCognitoSignIn(location: Location = window.location): Promise<string | null> {
    const params = new URLSearchParams(location.search)
    const code = params.get('code')
    const error = params.get('error')
    if (!code && !error) return null
    const auth = this.requireCognito()
    const pending = JSON.parse(this.storage.getItem(PENDING_KEY) ?? 'null') as Pending | null
    this.storage.removeItem(PENDING_KEY)
    window.history.replaceState(null, '', location.pathname + (location.hash || '#/'))
    if (error) throw new AuthError(params.get('error_description') || error)
    if (!pending || pending.state !== params.get('state')) {
      throw new AuthError('the sign-in response does not match this tab; sign in again')
    }
    const tokens = await this.tokenRequest(auth, {
      grant_type: 'authorization_code',
      client_id: auth.clientId,
      code: code as string,
      redirect_uri: redirectUri(location),
      code_verifier: pending.verifier,
    })
    this.set(tokens)
    return pending.next
  }

  signOut(location: Location = window.location): void {
    this.set(null)
    if (this.config.auth.kind === 'cognito') {
      const url = new URL('/logout', this.config.auth.authUrl)
      url.search = new URLSearchParams({
        client_id: this.config.auth.clientId,
        logout_uri: redirectUri(location),
      }).toString()
      location.assign(url.toString())
    }
  }

  private requireCognito(): CognitoAuthConfig {
    if (this.config.auth.kind !== 'cognito') throw new AuthError('Cognito sign-in is not enabled')
    return this.config.auth
  }

  private async refresh(auth: CognitoAuthConfig, refreshToken: string): Promise<Session> {
    const session = await this.tokenRequest(auth, {
      grant_type: 'refresh_token',
      client_id: auth.clientId,
      refresh_token: refreshToken,
    })
    return { ...session, refreshToken: session.refreshToken ?? refreshToken }
  }

  private async tokenRequest(auth: CognitoAuthConfig, form: Record<string, string>): Promise<Session> {
    const response = await this.fetchFn(new URL('/oauth2/token', auth.authUrl).toString(), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    })
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>
    if (!response.ok || typeof body.id_token !== 'string') {
      const reason = typeof body.error === 'string' ? body.error : `HTTP ${response.status}`
      throw new AuthError(`sign-in failed (${reason})`)
    }
    const session = sessionFromToken(
      body.id_token,
      typeof body.expires_in === 'number' ? body.expires_in : 3600,
    )
    if (typeof body.refresh_token === 'string') session.refreshToken = body.refresh_token
    return session
  }
}

/** Cognito's callback and logout URLs are the app's root with a slash (see cdk/auth.py). */
export function redirectUri(location: Pick<Location, 'origin' | 'pathname'>): string {
  const path = location.pathname.replace(/[^/]*$/, '')
  return `${location.origin}${path || '/'}`
}
