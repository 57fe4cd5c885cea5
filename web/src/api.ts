/**
 * The StreamForge HTTP API. Its types come from the OpenAPI document the API serves
 * (src/generated/api-schema.ts, written by `python -m scripts.api_types`; a test fails when
 * it is stale): only the names the pages use are given here.
 */

import type { components } from './generated/api-schema'

type Schemas = components['schemas']

export type VideoStatus = 'PENDING_UPLOAD' | 'UPLOADED' | 'PROCESSING' | 'COMPLETED' | 'FAILED' | 'DELETED'
export type Visibility = Schemas['Visibility']

/** The API documents `status` and `visibility` as strings; these are the values it sends. */
type Narrowed<T> = Omit<T, 'status' | 'visibility'> & { status: VideoStatus; visibility: Visibility }

export type Rendition = Schemas['RenditionBody']
export type Playback = Schemas['PlaybackBody']
export type LogEntry = Schemas['LogEntryBody']
export type Video = Narrowed<Schemas['VideoBody']>
export type VideoDetail = Narrowed<Schemas['VideoDetail']>
export type PublicVideo = Schemas['PublicVideoBody']
export type PublicVideoDetail = Schemas['PublicVideoDetail']
export interface Page<T> {
  items: T[]
  nextCursor: string | null
}
export type NewVideo = Schemas['CreateVideoRequest']
export type VideoChanges = Schemas['UpdateVideoRequest']
export type UploadPlan = Schemas['SingleUploadBody'] | Schemas['MultipartUploadBody']
export type SignedPart = Schemas['SignedPartResponse']
export type UploadedPart = Schemas['PartBody']
export type CompletedPart = Schemas['CompletedPartBody']
export type Caption = Schemas['CaptionBody']
export type CaptionFormat = Schemas['CreateCaptionRequest']['format']

/** The caption format of a file, by its name (.vtt or .srt); null for anything else. */
export function captionFormatOf(fileName: string): CaptionFormat | null {
  const extension = fileName.toLowerCase().split('.').pop()
  return extension === 'vtt' ? 'vtt' : extension === 'srt' ? 'srt' : null
}

export class ApiError extends Error {
  override name = 'ApiError'
  constructor(
    readonly status: number, // 0: the request never got an answer
    readonly code: string,
    message: string,
    readonly fields: { field: string; message: string }[] = [],
  ) {
    super(message)
  }

  get isNetwork(): boolean {
    return this.status === 0
  }
}

export interface ApiOptions {
  baseUrl: string
  token: () => Promise<string | null>
  onUnauthorized?: () => void
  fetchFn?: typeof fetch
}

interface RequestOptions {
  method?: string
  body?: unknown
  query?: Record<string, string | number | null | undefined>
  auth?: boolean
  headers?: Record<string, string>
  signal?: AbortSignal
}

export class Api {
  private readonly baseUrl: string
  private readonly fetchFn: typeof fetch

  constructor(private readonly options: ApiOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '')
    this.fetchFn = options.fetchFn ?? ((...args) => fetch(...args))
  }

  url(path: string, query: RequestOptions['query'] = {}): string {
    const url = new URL(this.baseUrl + path)
    for (const [key, value] of Object.entries(query)) {
      if (value !== null && value !== undefined && value !== '') url.searchParams.set(key, String(value))
    }
    return url.toString()
  }

  async request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers }
    if (opts.auth !== false) {
      const token = await this.options.token()
      if (!token) {
        this.options.onUnauthorized?.()
        throw new ApiError(401, 'UNAUTHORIZED', 'Please sign in again.')
      }
      headers.Authorization = `Bearer ${token}`
    }
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json'
    let response: Response
    try {
      response = await this.fetchFn(this.url(path, opts.query), {
        method: opts.method ?? 'GET',
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: opts.signal,
      })
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') throw error
      throw new ApiError(0, 'NETWORK', 'The network connection was lost. Check it and try again.')
    }
    if (response.status === 204) return undefined as T
    const text = await response.text()
    let body: unknown
    try {
      body = text ? JSON.parse(text) : null
    } catch {
      body = null
    }
    if (!response.ok) throw this.errorFrom(response.status, body)
    return body as T
  }

  private errorFrom(status: number, body: unknown): ApiError {
    const data = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
    const message = typeof data.message === 'string' ? data.message : `HTTP ${status}`
    const code =
      typeof data.code === 'string' ? data.code : status === 401 ? 'UNAUTHORIZED' : `HTTP_${status}`
    const fields = Array.isArray(data.fields) ? (data.fields as ApiError['fields']) : []
    if (status === 401) this.options.onUnauthorized?.()
    return new ApiError(status, code, message, fields)
  }

  // --- the owner's videos --------------------------------------------------------------

  createVideo(video: NewVideo, idempotencyKey?: string) {
    return this.request<{ video: Video; upload: UploadPlan }>('/videos', {
      method: 'POST',
      body: video,
      headers: idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {},
    })
  }

  listVideos(cursor?: string | null, limit = 24) {
    return this.request<Page<Video>>('/videos', { query: { cursor, limit } })
  }

  getVideo(id: string) {
    return this.request<VideoDetail>(`/videos/${encodeURIComponent(id)}`)
  }

  updateVideo(id: string, changes: VideoChanges) {
    return this.request<Video>(`/videos/${encodeURIComponent(id)}`, { method: 'PATCH', body: changes })
  }

  deleteVideo(id: string) {
    return this.request<void>(`/videos/${encodeURIComponent(id)}`, { method: 'DELETE' })
  }

  reprocess(id: string) {
    return this.request<{ video: Video; executionArn: string }>(
      `/videos/${encodeURIComponent(id)}/reprocess`,
      { method: 'POST' },
    )
  }

  // --- uploads (the shapes of @uppy/aws-s3's multipart hooks) ----------------------------

  restartUpload(id: string, multipart?: boolean) {
    return this.request<{ upload: UploadPlan }>(`/videos/${encodeURIComponent(id)}/upload`, {
      method: 'POST',
      body: multipart === undefined ? {} : { multipart },
    })
  }

  signPart(id: string, partNumber: number, uploadId: string, signal?: AbortSignal) {
    return this.request<SignedPart>(`/videos/${encodeURIComponent(id)}/upload/parts/${partNumber}/url`, {
      query: { uploadId },
      signal,
    })
  }

  listParts(id: string, uploadId: string, signal?: AbortSignal) {
    return this.request<UploadedPart[]>(`/videos/${encodeURIComponent(id)}/upload/parts`, {
      query: { uploadId },
      signal,
    })
  }

  completeUpload(id: string, body: Schemas['CompleteUploadRequest'], signal?: AbortSignal) {
    return this.request<{ location: string; video: Video }>(
      `/videos/${encodeURIComponent(id)}/upload/complete`,
      { method: 'POST', body, signal },
    )
  }

  abortUpload(id: string, uploadId: string, signal?: AbortSignal) {
    return this.request<void>(`/videos/${encodeURIComponent(id)}/upload`, {
      method: 'DELETE',
      query: { uploadId },
      signal,
    })
  }

  // --- captions ----------------------------------------------------------------------------

  listCaptions(id: string) {
    return this.request<{ items: Caption[] }>(`/videos/${encodeURIComponent(id)}/captions`)
  }

  /** Creates the caption upload, PUTs the file to its presigned URL, then completes it: the
   * API checks the cues (an ApiError names the line of a bad one) and publishes the track. */
  async addCaptions(id: string, file: Blob, language: string, format: CaptionFormat, label?: string) {
    const video = encodeURIComponent(id)
    const created = await this.request<Schemas['CaptionUploadResponse']>(`/videos/${video}/captions`, {
      method: 'POST',
      body: { language, format, sizeBytes: file.size, ...(label ? { label } : {}) },
    })
    let put: Response
    try {
      put = await this.fetchFn(created.upload.url, {
        method: 'PUT',
        headers: created.upload.headers,
        body: file,
      })
    } catch {
      throw new ApiError(0, 'NETWORK', 'The network connection was lost. Check it and try again.')
    }
    if (!put.ok)
      throw new ApiError(put.status, 'UPLOAD_FAILED', `The caption file was refused (HTTP ${put.status}).`)
    const track = encodeURIComponent(created.language)
    return this.request<Caption>(`/videos/${video}/captions/${track}/complete`, { method: 'POST' })
  }

  deleteCaptions(id: string, language: string) {
    return this.request<void>(`/videos/${encodeURIComponent(id)}/captions/${encodeURIComponent(language)}`, {
      method: 'DELETE',
    })
  }

  // --- public ------------------------------------------------------------------------------

  catalog(cursor?: string | null, limit = 24) {
    return this.request<Page<PublicVideo>>('/catalog', { query: { cursor, limit }, auth: false })
  }

  catalogVideo(id: string) {
    return this.request<PublicVideoDetail>(`/catalog/${encodeURIComponent(id)}`, { auth: false })
  }
}
