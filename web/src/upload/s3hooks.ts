/**
 * @uppy/aws-s3's multipart hooks, backed by the StreamForge API. Every upload is multipart,
 * even a small one: S3 then keeps the parts already sent, so an upload resumes (after a
 * pause, a lost connection or a page reload) with listParts instead of starting over.
 *
 * The API plans the parts (each part URL is signed for its size), but Uppy cuts the file
 * before it calls `createMultipartUpload`. So a preprocessor (`planUploads`) creates the
 * video and its multipart upload first, and `getChunkSize` cuts at the plan's
 * `partSizeBytes`. The video's id and the part size ride in the file's meta, which Golden
 * Retriever keeps across a reload.
 */

import { Api, ApiError, type NewVideo, type UploadPlan, type Visibility } from '../api'
import { parseTags } from '../format'

const MIB = 1024 * 1024
const PREFERRED_PART_BYTES = 16 * MIB // the API's default part size
const MAX_PARTS = 10_000

type MultipartPlan = Extract<UploadPlan, { type: 'multipart' }>

export interface UploadMeta {
  title?: string
  description?: string
  tags?: string
  visibility?: string
  videoId?: string
  partSizeBytes?: number // the API's plan: Uppy cuts the file at this size
  uploadKey?: string // Idempotency-Key of the create request: a retried create makes one video
  [key: string]: unknown
}

export interface HookFile {
  id: string
  name?: string
  type?: string
  size: number | null
  meta: UploadMeta
  data?: unknown
}

/** The part of Uppy the hooks use: its files and their meta. */
export interface UploadFiles {
  getFile(fileId: string): HookFile | undefined
  getFiles(): HookFile[]
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
  const stem = name
    .replace(/\.[^.]+$/, '')
    .replace(/[_]+/g, ' ')
    .trim()
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

/** Only when the API could not be asked before the cut (its error is reported on the first
 * attempt): the API's own rule (lambdas/core/uploads.py part_size_for). A plan that then differs
 * is refused, since each part URL is signed for the plan's size. */
export function fallbackChunkSize(size: number): number {
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

export function s3Hooks(api: Api, files: UploadFiles) {
  const fresh = new Map<string, MultipartPlan>() // planned by planUploads, not yet started
  const planFailures = new Map<string, Error>() // reported by createMultipartUpload

  async function plan(file: HookFile): Promise<MultipartPlan> {
    let upload: UploadPlan
    if (file.meta.videoId) {
      // A retry after an abort or a failure: the video exists, start (or resume) its upload.
      upload = (await api.restartUpload(file.meta.videoId, true)).upload
    } else {
      const created = await api.createVideo(newVideoFrom(file), file.meta.uploadKey)
      files.setFileMeta(file.id, { videoId: created.video.id })
      file.meta.videoId = created.video.id
      upload = created.upload
    }
    if (upload.type !== 'multipart') throw new Error('the API did not start a multipart upload')
    return upload
  }

  /** The part size Uppy cut `file` at: the plan's, remembered in the file's meta. */
  function cutAt(file: HookFile): number {
    return Number(file.meta.partSizeBytes) || fallbackChunkSize(file.size ?? 0)
  }

  return {
    shouldUseMultipart: true as const,

    /** An Uppy preprocessor: plans each file's parts before Uppy cuts it. A file that Uppy
     * resumes (it has an upload already) keeps its plan. */
    planUploads: async (fileIds: string[]): Promise<void> => {
      await Promise.all(
        fileIds.map(async (id) => {
          const file = files.getFile(id)
          if (!file || (file as { s3Multipart?: { uploadId?: string } }).s3Multipart?.uploadId) return
          try {
            const planned = await plan(file)
            files.setFileMeta(id, { partSizeBytes: planned.partSizeBytes })
            file.meta.partSizeBytes = planned.partSizeBytes
            fresh.set(id, planned)
          } catch (error) {
            // Reported for this file alone, by createMultipartUpload, where Uppy retries.
            planFailures.set(id, error instanceof Error ? error : new Error(String(error)))
          }
        }),
      )
    },

    /** Uppy passes the file's data: the part size is the plan's for that file. */
    getChunkSize(data: { size: number }): number {
      const file = files.getFiles().find((f) => f.data === data)
      return file ? cutAt(file) : fallbackChunkSize(data.size)
    },

    async createMultipartUpload(file: HookFile) {
      return call(async () => {
        const failure = planFailures.get(file.id)
        if (failure !== undefined) {
          planFailures.delete(file.id)
          throw failure
        }
        const planned = fresh.get(file.id) ?? (await plan(file))
        fresh.delete(file.id)
        if (planned.partSizeBytes !== cutAt(file)) {
          const sizes = `the API plans parts of ${planned.partSizeBytes} bytes, this page cut ${cutAt(file)}`
          throw new Error(`${sizes}: remove the file and add it again`)
        }
        return { uploadId: planned.uploadId, key: planned.key }
      })
    },

    async signPart(
      file: HookFile,
      opts: { uploadId: string; key: string; partNumber: number; signal?: AbortSignal },
    ) {
      return call(async () => {
        const signed = await api.signPart(
          videoIdOf(file, opts.key),
          opts.partNumber,
          opts.uploadId,
          opts.signal,
        )
        return { method: 'PUT' as const, url: signed.url, headers: signed.headers, expires: signed.expires }
      })
    },

    async listParts(file: HookFile, opts: { uploadId?: string; key?: string; signal?: AbortSignal }) {
      return call(() => api.listParts(videoIdOf(file, opts.key), requireUploadId(opts.uploadId), opts.signal))
    },

    async completeMultipartUpload(
      file: HookFile,
      opts: {
        uploadId: string
        key: string
        parts: { PartNumber?: number; ETag?: string }[]
        signal?: AbortSignal
      },
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

    async abortMultipartUpload(
      file: HookFile,
      opts: { uploadId?: string; key?: string; signal?: AbortSignal },
    ) {
      if (!file.meta.videoId && !opts.key) return
      const videoId = videoIdOf(file, opts.key)
      if (opts.uploadId) await call(() => api.abortUpload(videoId, opts.uploadId as string, opts.signal))
      // Removed from the upload list: the video that waited for this file goes too, rather
      // than waiting in the library for a source that will never come.
      await api.deleteVideo(videoId).catch(() => undefined)
    },
  }
}
