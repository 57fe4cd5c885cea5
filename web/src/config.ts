/**
 * The runtime configuration, read from `config.json` beside index.html. One shape serves both
 * deployments:
 *
 * - on AWS, CDK writes `{apiUrl, region, userPoolId, userPoolClientId, authUrl}` (Cognito
 *   Hosted UI, authorization code flow with PKCE);
 * - offline, local/webapp.py writes `{apiUrl, auth: "local", localTokenUrl, cdnUrl, ...}`.
 *
 * `auth` may be left out: Cognito when `authUrl` and `userPoolClientId` are present.
 */

export const DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 ** 3

export interface CognitoAuthConfig {
  kind: 'cognito'
  authUrl: string // the Hosted UI base, e.g. https://prefix.auth.eu-west-1.amazoncognito.com
  clientId: string
  userPoolId: string | null
  scopes: string[]
}

export interface LocalAuthConfig {
  kind: 'local'
  tokenUrl: string // POST {"username"} -> {"idToken", "expiresIn"}
}

export interface AppConfig {
  apiUrl: string // no trailing slash
  region: string | null
  cdnUrl: string | null
  maxUploadBytes: number
  auth: CognitoAuthConfig | LocalAuthConfig
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

function str(raw: Record<string, unknown>, key: string): string | null {
  const value = raw[key]
  if (value === undefined || value === null || value === '') return null
  if (typeof value !== 'string') throw new ConfigError(`config.json: "${key}" must be a string`)
  return value
}

function absoluteUrl(value: string, key: string, base: string): string {
  try {
    return new URL(value, base).toString().replace(/\/+$/, '')
  } catch {
    throw new ConfigError(`config.json: "${key}" is not a URL`)
  }
}

export function parseConfig(raw: unknown, base: string): AppConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError('config.json must hold a JSON object')
  }
  const data = raw as Record<string, unknown>
  const api = str(data, 'apiUrl')
  if (!api) throw new ConfigError('config.json: "apiUrl" is missing')
  const maxRaw = data.maxUploadBytes
  if (maxRaw !== undefined && (typeof maxRaw !== 'number' || !(maxRaw > 0))) {
    throw new ConfigError('config.json: "maxUploadBytes" must be a positive number')
  }
  const cdn = str(data, 'cdnUrl')
  const kind = str(data, 'auth') ?? (str(data, 'authUrl') ? 'cognito' : null)
  let auth: AppConfig['auth']
  if (kind === 'cognito') {
    const authUrl = str(data, 'authUrl')
    const clientId = str(data, 'userPoolClientId')
    if (!authUrl || !clientId) {
      throw new ConfigError('config.json: Cognito sign-in needs "authUrl" and "userPoolClientId"')
    }
    const scopes = Array.isArray(data.scopes)
      ? data.scopes.filter((s): s is string => typeof s === 'string')
      : ['openid', 'email']
    auth = {
      kind: 'cognito',
      authUrl: absoluteUrl(authUrl, 'authUrl', base),
      clientId,
      userPoolId: str(data, 'userPoolId'),
      scopes,
    }
  } else if (kind === 'local') {
    auth = {
      kind: 'local',
      tokenUrl: absoluteUrl(str(data, 'localTokenUrl') ?? 'auth/local/token', 'localTokenUrl', base),
    }
  } else {
    throw new ConfigError(
      'config.json: say how to sign in: "auth": "local", or Cognito\'s "authUrl" and "userPoolClientId"',
    )
  }
  return {
    apiUrl: absoluteUrl(api, 'apiUrl', base),
    region: str(data, 'region'),
    cdnUrl: cdn ? absoluteUrl(cdn, 'cdnUrl', base) : null,
    maxUploadBytes: typeof maxRaw === 'number' ? maxRaw : DEFAULT_MAX_UPLOAD_BYTES,
    auth,
  }
}

/** Fetches config.json relative to the page (never cached: a redeploy may change it). */
export async function loadConfig(
  base: string = document.baseURI,
  fetchFn: typeof fetch = fetch,
): Promise<AppConfig> {
  const url = new URL('config.json', base)
  let response: Response
  try {
    response = await fetchFn(url.toString(), { cache: 'no-store' })
  } catch {
    throw new ConfigError(`could not load ${url.pathname}: the network request failed`)
  }
  if (!response.ok) {
    throw new ConfigError(`could not load ${url.pathname}: HTTP ${response.status}`)
  }
  let raw: unknown
  try {
    raw = await response.json()
  } catch {
    throw new ConfigError(`${url.pathname} is not valid JSON`)
  }
  return parseConfig(raw, url.toString())
}
