import { describe, expect, it, vi } from 'vitest'

import { ConfigError, DEFAULT_MAX_UPLOAD_BYTES, loadConfig, parseConfig } from '../src/config'

const BASE = 'https://app.example.com/config.json'

describe('parseConfig', () => {
  it('reads what CDK writes on AWS as Cognito sign-in', () => {
    const config = parseConfig(
      {
        apiUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com/',
        region: 'eu-west-1',
        userPoolId: 'eu-west-1_AbC',
        userPoolClientId: 'client123',
        authUrl: 'https://sf-dev.auth.eu-west-1.amazoncognito.com',
      },
      BASE,
    )
    expect(config.apiUrl).toBe('https://abc.execute-api.eu-west-1.amazonaws.com')
    expect(config.auth).toEqual({
      kind: 'cognito',
      authUrl: 'https://sf-dev.auth.eu-west-1.amazoncognito.com',
      clientId: 'client123',
      userPoolId: 'eu-west-1_AbC',
      scopes: ['openid', 'email'],
    })
    expect(config.maxUploadBytes).toBe(DEFAULT_MAX_UPLOAD_BYTES)
    expect(config.cdnUrl).toBeNull()
  })

  it('reads what the offline runtime writes as local sign-in, relative to the page', () => {
    const config = parseConfig(
      {
        apiUrl: 'http://127.0.0.1:8080',
        cdnUrl: 'http://127.0.0.1:9000',
        auth: 'local',
        localTokenUrl: 'auth/local/token',
        maxUploadBytes: 1000,
      },
      'http://127.0.0.1:5000/config.json',
    )
    expect(config.auth).toEqual({ kind: 'local', tokenUrl: 'http://127.0.0.1:5000/auth/local/token' })
    expect(config.cdnUrl).toBe('http://127.0.0.1:9000')
    expect(config.maxUploadBytes).toBe(1000)
  })

  it.each([
    [null, 'JSON object'],
    [[], 'JSON object'],
    [{}, '"apiUrl" is missing'],
    [{ apiUrl: 5 }, '"apiUrl" must be a string'],
    [{ apiUrl: 'http://x' }, 'say how to sign in'],
    [{ apiUrl: 'http://x', auth: 'cognito', authUrl: 'https://a' }, 'userPoolClientId'],
    [{ apiUrl: 'http://x', auth: 'local', maxUploadBytes: -1 }, 'maxUploadBytes'],
  ])('refuses %j', (raw, message) => {
    expect(() => parseConfig(raw, BASE)).toThrow(ConfigError)
    expect(() => parseConfig(raw, BASE)).toThrow(message)
  })
})

describe('loadConfig', () => {
  it('fetches config.json beside the page, uncached', async () => {
    const fetchFn = vi.fn(async () => new Response(JSON.stringify({ apiUrl: '/api', auth: 'local' })))
    const config = await loadConfig('https://app.example.com/sub/index.html', fetchFn)
    expect(fetchFn).toHaveBeenCalledWith('https://app.example.com/sub/config.json', { cache: 'no-store' })
    expect(config.apiUrl).toBe('https://app.example.com/api')
  })

  it('says what went wrong when the file is missing or broken', async () => {
    const missing = vi.fn(async () => new Response('nope', { status: 404 }))
    await expect(loadConfig(BASE, missing as unknown as typeof fetch)).rejects.toThrow('HTTP 404')
    const broken = vi.fn(async () => new Response('{not json'))
    await expect(loadConfig(BASE, broken as unknown as typeof fetch)).rejects.toThrow('not valid JSON')
    const offline = vi.fn(async () => {
      throw new TypeError('Failed to fetch')
    })
    await expect(loadConfig(BASE, offline as unknown as typeof fetch)).rejects.toThrow(
      'network request failed',
    )
  })
})
