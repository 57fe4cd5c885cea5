import { describe, expect, it, vi } from 'vitest'

import { Api, ApiError, captionFormatOf } from '../src/api'

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

function client(responses: Response[], token: string | null = 'tok') {
  const calls: { url: string; init: RequestInit }[] = []
  const fetchFn = vi.fn(async (url: string, init: RequestInit) => {
    calls.push({ url, init })
    const next = responses.shift()
    if (!next) throw new TypeError('Failed to fetch')
    return next
  })
  const onUnauthorized = vi.fn()
  const api = new Api({
    baseUrl: 'https://api.example.com/',
    token: async () => token,
    onUnauthorized,
    fetchFn: fetchFn as unknown as typeof fetch,
  })
  return { api, calls, onUnauthorized }
}

describe('Api', () => {
  it('sends the bearer token and JSON, and reads JSON', async () => {
    const { api, calls } = client([json({ video: { id: 'v1' }, upload: { type: 'multipart' } }, 201)])
    const result = await api.createVideo(
      {
        title: 't',
        description: '',
        tags: [],
        visibility: 'private',
        filename: 'a.mp4',
        contentType: 'video/mp4',
        sizeBytes: 3,
      },
      'key-1',
    )
    expect(result.video.id).toBe('v1')
    const { url, init } = calls[0]
    expect(url).toBe('https://api.example.com/videos')
    expect(init.method).toBe('POST')
    const headers = init.headers as Record<string, string>
    expect(headers.Authorization).toBe('Bearer tok')
    expect(headers['Idempotency-Key']).toBe('key-1')
    expect(headers['Content-Type']).toBe('application/json')
    expect((JSON.parse(init.body as string) as { filename: string }).filename).toBe('a.mp4')
  })

  it('builds the upload routes Uppy needs, ids and upload ids encoded', async () => {
    const { api, calls } = client([
      json({ url: 'u', headers: {}, method: 'PUT', expires: 60 }),
      json([]),
      new Response(null, { status: 204 }),
    ])
    await api.signPart('a/b', 3, 'up+id')
    await api.listParts('v1', 'up')
    await api.abortUpload('v1', 'up')
    expect(calls.map((c) => `${c.init.method} ${c.url}`)).toEqual([
      'GET https://api.example.com/videos/a%2Fb/upload/parts/3/url?uploadId=up%2Bid',
      'GET https://api.example.com/videos/v1/upload/parts?uploadId=up',
      'DELETE https://api.example.com/videos/v1/upload?uploadId=up',
    ])
  })

  it('leaves the token out of public routes', async () => {
    const { api, calls } = client([json({ items: [], nextCursor: null })], null)
    await api.catalog('c1', 10)
    expect(calls[0].url).toBe('https://api.example.com/catalog?cursor=c1&limit=10')
    expect((calls[0].init.headers as Record<string, string>).Authorization).toBeUndefined()
  })

  it('turns an error body into an ApiError with its code, message and fields', async () => {
    const { api } = client([
      json(
        {
          code: 'INVALID_REQUEST',
          message: 'invalid fields: title',
          fields: [{ field: 'title', message: 'too long' }],
        },
        400,
      ),
    ])
    const error = await api.updateVideo('v1', { title: 'x' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({
      status: 400,
      code: 'INVALID_REQUEST',
      message: 'invalid fields: title',
      fields: [{ field: 'title', message: 'too long' }],
    })
  })

  it('reports 401 to the app (sign in again), and a lost network as status 0', async () => {
    const { api, onUnauthorized } = client([json({ message: 'Unauthorized' }, 401)])
    await expect(api.listVideos()).rejects.toMatchObject({ status: 401, code: 'UNAUTHORIZED' })
    expect(onUnauthorized).toHaveBeenCalledOnce()
    const error = (await api.listVideos().catch((e: unknown) => e)) as ApiError
    expect(error.isNetwork).toBe(true)
  })

  it('does not call a protected route without a token', async () => {
    const { api, calls, onUnauthorized } = client([], null)
    await expect(api.getVideo('v1')).rejects.toMatchObject({ status: 401 })
    expect(calls).toHaveLength(0)
    expect(onUnauthorized).toHaveBeenCalled()
  })

  it('adds captions: creates the upload, PUTs the file with the signed headers, completes', async () => {
    const upload = {
      type: 'single',
      method: 'PUT',
      url: 'https://s3.example.com/put?sig',
      headers: { 'Content-Type': 'application/x-subrip' },
      expiresInSeconds: 60,
    }
    const { api, calls } = client([
      json({ language: 'pt-BR', upload }, 201),
      new Response(null, { status: 200 }),
      json({ language: 'pt-BR', label: 'Português', sourceFormat: 'srt', cueCount: 2, addedAt: 'now' }),
    ])
    const file = new Blob(['1\n00:00:01,000 --> 00:00:02,000\nOlá\n'])
    const caption = await api.addCaptions('v 1', file, 'pt-br', 'srt', 'Português')

    expect(caption.cueCount).toBe(2)
    expect(calls.map((c) => [c.init.method, c.url])).toEqual([
      ['POST', 'https://api.example.com/videos/v%201/captions'],
      ['PUT', 'https://s3.example.com/put?sig'],
      ['POST', 'https://api.example.com/videos/v%201/captions/pt-BR/complete'],
    ])
    expect(JSON.parse(calls[0]?.init.body as string)).toEqual({
      language: 'pt-br',
      format: 'srt',
      sizeBytes: file.size,
      label: 'Português',
    })
    expect(calls[1]?.init.headers).toEqual(upload.headers)
    expect(calls[1]?.init.headers).not.toHaveProperty('Authorization')
  })

  it('reports a refused caption file, and a bad cue with its line', async () => {
    const upload = {
      type: 'single',
      method: 'PUT',
      url: 'https://s3.example.com/put',
      headers: {},
      expiresInSeconds: 60,
    }
    const refused = client([json({ language: 'en', upload }, 201), new Response(null, { status: 403 })])
    await expect(refused.api.addCaptions('v1', new Blob(['x']), 'en', 'vtt')).rejects.toMatchObject({
      status: 403,
      code: 'UPLOAD_FAILED',
    })
    const invalid = client([
      json({ language: 'en', upload }, 201),
      new Response(null, { status: 200 }),
      json(
        {
          code: 'INVALID_CAPTIONS',
          message: 'line 5: not a SubRip cue',
          fields: [{ field: 'file', message: 'x' }],
        },
        422,
      ),
    ])
    await expect(invalid.api.addCaptions('v1', new Blob(['x']), 'en', 'srt')).rejects.toMatchObject({
      status: 422,
      message: 'line 5: not a SubRip cue',
    })
  })

  it('names a caption format by the file name', () => {
    expect(captionFormatOf('talk.EN.srt')).toBe('srt')
    expect(captionFormatOf('talk.vtt')).toBe('vtt')
    expect(captionFormatOf('talk.ass')).toBeNull()
  })
})
