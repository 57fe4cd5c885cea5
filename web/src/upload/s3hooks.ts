/**
 * @uppy/aws-s3's multipart hooks, backed by the StreamForge API. Every upload is multipart,
 * even a small one: S3 then keeps the parts already sent, so an upload resumes (after a
 * pause, a lost connection or a page reload) with listParts instead of starting over.
 *
 * The video is created in `createMultipartUpload`; its id rides in the file's meta
 * (`videoId`), which Golden Retriever keeps across a reload.
 */

import { Api, ApiError, type NewVideo, type Visibility } from '../api'
import { parseTags } from '../format'

const MIB = 1024 * 1024
const PREFERRED_PART_BYTES = 16 * MIB // the API's default part size
const MAX_PARTS = 10_000

export interface UploadMeta {
  title?: string
  description?: string
  tags?: string
  visibility?: string
  videoId?: string
  uploadKey?: string // Idempotency-Key of the create request: a retried create makes one video
  [key: string]: unknown
}

export interface HookFile {
  id: string
  name?: string
  type?: string
  size: number | null
  meta: UploadMeta
}

export interface MetaSink {
  setFileMeta(fileId: string, meta: UploadMeta): void
}

/** Uppy retries a failed request unless it says a 4xx (not 409): it reads `error.source.status`. */
function forUppy(error: unknown): unknown {
  if (error instanceof ApiError) {
    Object.assign(error, { source: { status: error.status } })
  }
  return error
}

async function call<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    throw forUppy(error)
  }
}

const EXTENSION_TYPES: Record<string, string> = {
  mp4: 'video/mp4',
  m4v: 'video/x-m4v',
  mov: 'video/quicktime',
  mkv: 'video/x-matroska',
  webm: 'video/webm',
  avi: 'video/x-msvideo',
  mpg: 'video/mpeg',
  mpeg: 'video/mpeg',
  ts: 'video/mp2t',
  '3gp': 'video/3gpp',
}

/** The file's type as the API expects it; browsers leave it empty for some containers. */
export function contentTypeOf(name: string, browserType: string | undefined): string {
  const type = (browserType ?? '').toLowerCase()
  if (type.startsWith('video/')) return type
  const extension = name.toLowerCase().split('.').pop() ?? ''
  return EXTENSION_TYPES[extension] ?? (type || 'application/octet-stream')
}

export function titleFromFileName(name: string): string {
  const stem = name.replace(/\.[^.]+$/, '').replace(/[_]+/g, ' ').trim()
  return (stem || name).slice(0, 200)
}

export function newVideoFrom(file: HookFile): NewVideo {
  const name = file.name ?? 'video'
  const visibility: Visibility = file.meta.visibility === 'public' ? 'public' : 'private'
  return {
    title: (file.meta.title ?? '').trim() || titleFromFileName(name),
    description: (file.meta.description ?? '').trim(),
    tags: parseTags(file.meta.tags ?? ''),
    visibility,
    filename: name,
    contentType: contentTypeOf(name, file.type),
    sizeBytes: file.size ?? 0,
    multipart: true,
  }
}

/** Parts of at least the API's preferred size, larger when 10,000 would not hold the file: the
 * API's own plan (lambdas/core/uploads.py part_size_for), which signs each part's size. */
export function chunkSize(size: number): number {
  return Math.max(PREFERRED_PART_BYTES, Math.ceil(size / MAX_PARTS / MIB) * MIB)
}

/** The video an upload belongs to: from the meta, or from its key `{videoId}/source`. */
export function videoIdOf(file: HookFile, key?: string): string {
  const id = file.meta.videoId ?? key?.split('/')[0]
  if (!id) throw new Error('this upload lost track of its video; remove it and add the file again')
  return id
}

function requireUploadId(uploadId: string | undefined): string {
  if (!uploadId) throw new Error('this upload has no multipart upload id')
  return uploadId
}

export function s3Hooks(api: Api, sink: MetaSink) {
  return {
    shouldUseMultipart: true as const,
    getChunkSize: (file: { size: number }) => chunkSize(file.size),

    async createMultipartUpload(file: HookFile) {
      return call(async () => {
        let plan
        if (file.meta.videoId) {
          // A retry after an abort or a failure: the video exists, start (or resume) its upload.
          plan = (await api.restartUpload(file.meta.videoId, true)).upload
        } else {
          const created = await api.createVideo(newVideoFrom(file), file.meta.uploadKey)
          sink.setFileMeta(file.id, { videoId: created.video.id })
          file.meta.videoId = created.video.id
          plan = created.upload
        }
        if (plan.type !== 'multipart') throw new Error('the API did not start a multipart upload')
        // Each part URL is signed for its planned size: Uppy must cut the file the same way.
        if (plan.partSizeBytes !== chunkSize(file.size ?? 0)) {
          throw new Error(
            `the API plans parts of ${plan.partSizeBytes} bytes, this page cuts ${chunkSize(file.size ?? 0)}: reload the page`,
          )
        }
        return { uploadId: plan.uploadId, key: plan.key }
      })
    },

    async signPart(
      file: HookFile,
      opts: { uploadId: string; key: string; partNumber: number; signal?: AbortSignal },
    ) {
      return call(async () => {
        const signed = await api.signPart(videoIdOf(file, opts.key), opts.partNumber, opts.uploadId, opts.signal)
        return { method: 'PUT' as const, url: signed.url, headers: signed.headers, expires: signed.expires }
      })
    },

    async listParts(file: HookFile, opts: { uploadId?: string; key?: string; signal?: AbortSignal }) {
      return call(() => api.listParts(videoIdOf(file, opts.key), requireUploadId(opts.uploadId), opts.signal))
    },

    async completeMultipartUpload(
      file: HookFile,
      opts: { uploadId: string; key: string; parts: { PartNumber?: number; ETag?: string }[]; signal?: AbortSignal },
    ) {
      const videoId = videoIdOf(file, opts.key)
      return call(async () => {
        const parts = opts.parts
          .filter((p): p is { PartNumber: number; ETag: string } => !!p.PartNumber && !!p.ETag)
          .map((p) => ({ PartNumber: p.PartNumber, ETag: p.ETag }))
        try {
          const done = await api.completeUpload(videoId, { uploadId: opts.uploadId, parts }, opts.signal)
          return { location: done.location }
        } catch (error) {
          // A retried completion after the first one went through: the source is complete.
          if (error instanceof ApiError && error.code === 'UPLOAD_ALREADY_COMPLETED') {
            return { location: `/videos/${videoId}` }
          }
          throw error
        }
      })
    },

    async abortMultipartUpload(file: HookFile, opts: { uploadId?: string; key?: string; signal?: AbortSignal }) {
      if (!file.meta.videoId && !opts.key) return
      const videoId = videoIdOf(file, opts.key)
      if (opts.uploadId) await call(() => api.abortUpload(videoId, opts.uploadId as string, opts.signal))
      // Removed from the upload list: the video that waited for this file goes too, rather
      // than waiting in the library for a source that will never come.
      await api.deleteVideo(videoId).catch(() => undefined)
    },
  }
}
