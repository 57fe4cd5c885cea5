import { describe, expect, it, vi } from 'vitest'

import { Api, ApiError } from '../src/api'
import { describeUploadError } from '../src/upload/errors'
import {
  contentTypeOf,
  fallbackChunkSize,
  newVideoFrom,
  s3Hooks,
  titleFromFileName,
  type HookFile,
  type UploadMeta,
} from '../src/upload/s3hooks'
import { SpeedMeter } from '../src/upload/stats'

const MIB = 1024 * 1024

function fakeApi(overrides: Partial<Record<keyof Api, unknown>> = {}) {
  return {
    createVideo: vi.fn(async () => ({
      video: { id: 'vid1' },
      upload: {
        type: 'multipart',
        uploadId: 'up1',
        key: 'vid1/source',
        partSizeBytes: 16 * MIB,
        partCount: 1,
        expiresInSeconds: 900,
      },
    })),
    restartUpload: vi.fn(async () => ({
      upload: {
        type: 'multipart',
        uploadId: 'up2',
        key: 'vid1/source',
        partSizeBytes: 16 * MIB,
        partCount: 1,
        expiresInSeconds: 900,
      },
    })),
    signPart: vi.fn(async () => ({ method: 'PUT', url: 'https://s3/part', headers: {}, expires: 900 })),
    listParts: vi.fn(async () => [{ PartNumber: 1, Size: 5, ETag: '"e1"' }]),
    completeUpload: vi.fn(async () => ({ location: '/videos/vid1', video: {} })),
    abortUpload: vi.fn(async () => undefined),
    deleteVideo: vi.fn(async () => undefined),
    ...overrides,
  } as unknown as Api & Record<string, ReturnType<typeof vi.fn>>
}

function file(meta: HookFile['meta'] = {}, size = 3 * MIB): HookFile {
  return {
    id: 'f1',
    name: 'My_holiday.MOV',
    type: '',
    size,
    data: { size },
    meta: { title: 'Holiday', tags: 'sea, sun, sea', visibility: 'public', uploadKey: 'k1', ...meta },
  }
}

/** Uppy's file store as the hooks see it. */
function filesOf(...list: HookFile[]) {
  const byId = new Map(list.map((f) => [f.id, f]))
  return {
    getFile: (id: string) => byId.get(id),
    getFiles: () => [...byId.values()],
    setFileMeta: vi.fn((id: string, meta: UploadMeta) => Object.assign(byId.get(id)!.meta, meta)),
  }
}

const multipart = (uploadId: string, partSizeBytes: number) => ({
  type: 'multipart',
  uploadId,
  key: 'vid1/source',
  partSizeBytes,
  partCount: 4,
  expiresInSeconds: 900,
})

describe('s3Hooks (the API behind @uppy/aws-s3)', () => {
  it('plans the upload before Uppy cuts the file, and cuts at the part size the API planned', async () => {
    // Given an API that plans 8 MiB parts (not the 16 MiB this page would pick itself)
    const api = fakeApi({
      createVideo: vi.fn(async () => ({ video: { id: 'vid1' }, upload: multipart('up1', 8 * MIB) })),
    })
    const f = file({}, 30 * MIB)
    const files = filesOf(f)
    const hooks = s3Hooks(api, files)

    // When Uppy runs the preprocessor, then asks where to cut, then starts the upload
    await hooks.planUploads(['f1'])
    const cut = hooks.getChunkSize(f.data as { size: number })
    const started = await hooks.createMultipartUpload(f)

    // Then the video is created once, the cut is the API's, and the plan's upload is used
    expect(api.createVideo).toHaveBeenCalledWith(
      {
        title: 'Holiday',
        description: '',
        tags: ['sea', 'sun'],
        visibility: 'public',
        filename: 'My_holiday.MOV',
        contentType: 'video/quicktime',
        sizeBytes: 30 * MIB,
        multipart: true,
      },
      'k1',
    )
    expect(cut).toBe(8 * MIB)
    expect(fallbackChunkSize(30 * MIB)).toBe(16 * MIB)
    expect(started).toEqual({ uploadId: 'up1', key: 'vid1/source' })
    expect(files.setFileMeta).toHaveBeenCalledWith('f1', { videoId: 'vid1' })
    expect(f.meta).toMatchObject({ videoId: 'vid1', partSizeBytes: 8 * MIB })
    expect(api.restartUpload).not.toHaveBeenCalled()
  })

  it('a second start (after an abort or a failure) restarts the same video', async () => {
    const api = fakeApi({ restartUpload: vi.fn(async () => ({ upload: multipart('up2', 8 * MIB) })) })
    const f = file({ videoId: 'vid1', partSizeBytes: 8 * MIB }, 30 * MIB)
    const hooks = s3Hooks(api, filesOf(f))

    await expect(hooks.createMultipartUpload(f)).resolves.toEqual({ uploadId: 'up2', key: 'vid1/source' })
    expect(api.restartUpload).toHaveBeenCalledWith('vid1', true)
    expect(api.createVideo).not.toHaveBeenCalled()
  })

  it('refuses a plan whose parts are not the ones Uppy cut (each part is signed for its size)', async () => {
    const api = fakeApi({ restartUpload: vi.fn(async () => ({ upload: multipart('up2', 16 * MIB) })) })
    const f = file({ videoId: 'vid1', partSizeBytes: 8 * MIB }, 30 * MIB)
    const hooks = s3Hooks(api, filesOf(f))

    await expect(hooks.createMultipartUpload(f)).rejects.toThrow(
      /parts of 16777216 bytes, this page cut 8388608/,
    )
  })

  it('leaves alone a file Uppy resumes: it keeps the plan it was cut with', async () => {
    const api = fakeApi()
    const f = Object.assign(file({ videoId: 'vid1', partSizeBytes: 8 * MIB }, 30 * MIB), {
      s3Multipart: { uploadId: 'up1', key: 'vid1/source' },
    })
    const hooks = s3Hooks(api, filesOf(f))

    await hooks.planUploads(['f1'])

    expect(api.createVideo).not.toHaveBeenCalled()
    expect(api.restartUpload).not.toHaveBeenCalled()
    expect(hooks.getChunkSize(f.data as { size: number })).toBe(8 * MIB)
  })

  it('signs, lists and completes parts of the right video', async () => {
    const api = fakeApi()
    const hooks = s3Hooks(api, filesOf())
    const f = file({ videoId: 'vid1' })
    await expect(hooks.signPart(f, { uploadId: 'up1', key: 'vid1/source', partNumber: 2 })).resolves.toEqual({
      method: 'PUT',
      url: 'https://s3/part',
      headers: {},
      expires: 900,
    })
    expect(api.signPart).toHaveBeenCalledWith('vid1', 2, 'up1', undefined)
    await expect(hooks.listParts(f, { uploadId: 'up1', key: 'vid1/source' })).resolves.toHaveLength(1)
    await hooks.completeMultipartUpload(f, {
      uploadId: 'up1',
      key: 'vid1/source',
      parts: [{ PartNumber: 1, ETag: '"e1"' }, { PartNumber: 2 }],
    })
    expect(api.completeUpload).toHaveBeenCalledWith(
      'vid1',
      { uploadId: 'up1', parts: [{ PartNumber: 1, ETag: '"e1"' }] },
      undefined,
    )
  })

  it('after a reload, finds the video from the key when the meta lost it', async () => {
    const api = fakeApi()
    const hooks = s3Hooks(api, filesOf())
    await hooks.listParts(file(), { uploadId: 'up1', key: 'vid9/source' })
    expect(api.listParts).toHaveBeenCalledWith('vid9', 'up1', undefined)
  })

  it('a retried completion that already went through counts as done', async () => {
    const api = fakeApi({
      completeUpload: vi.fn(async () => {
        throw new ApiError(409, 'UPLOAD_ALREADY_COMPLETED', 'already')
      }),
    })
    const hooks = s3Hooks(api, filesOf())
    await expect(
      hooks.completeMultipartUpload(file({ videoId: 'vid1' }), {
        uploadId: 'u',
        key: 'vid1/source',
        parts: [],
      }),
    ).resolves.toEqual({ location: '/videos/vid1' })
  })

  it('reports a failed plan for its file, with the HTTP status so that Uppy does not retry a 4xx', async () => {
    const api = fakeApi({
      createVideo: vi.fn(async () => {
        throw new ApiError(413, 'TOO_LARGE', 'too large')
      }),
    })
    const f = file()
    const hooks = s3Hooks(api, filesOf(f))
    await hooks.planUploads(['f1']) // the preprocessor itself does not fail the whole batch
    const error = await hooks.createMultipartUpload(f).catch((e: unknown) => e)
    expect((error as { source: { status: number } }).source.status).toBe(413)
    expect(api.createVideo).toHaveBeenCalledOnce()
  })

  it('removing a file aborts its upload and deletes the video that waited for it', async () => {
    const api = fakeApi()
    const hooks = s3Hooks(api, filesOf())
    await hooks.abortMultipartUpload(file({ videoId: 'vid1' }), { uploadId: 'up1', key: 'vid1/source' })
    expect(api.abortUpload).toHaveBeenCalledWith('vid1', 'up1', undefined)
    expect(api.deleteVideo).toHaveBeenCalledWith('vid1')
  })
})

describe('upload helpers', () => {
  it('names content types browsers leave empty', () => {
    expect(contentTypeOf('a.mkv', '')).toBe('video/x-matroska')
    expect(contentTypeOf('a.MP4', undefined)).toBe('video/mp4')
    expect(contentTypeOf('a.bin', 'video/webm')).toBe('video/webm')
    expect(contentTypeOf('notes.txt', 'text/plain')).toBe('text/plain')
  })

  it('makes a title from a file name, and defaults what is missing', () => {
    expect(titleFromFileName('my_trip_2024.mp4')).toBe('my trip 2024')
    expect(
      newVideoFrom({ id: 'x', name: 'clip.webm', type: 'video/webm', size: 10, meta: {} }),
    ).toMatchObject({ title: 'clip', visibility: 'private', tags: [] })
  })

  it('falls back to parts of 16 MiB, larger when 10,000 would not hold the file', () => {
    expect(fallbackChunkSize(1)).toBe(16 * MIB)
    expect(fallbackChunkSize(500 * 1024 * MIB)).toBe(52 * MIB)
  })

  it('explains errors in words a person can act on', () => {
    expect(describeUploadError(new ApiError(413, 'TOO_LARGE', 'x'), 1_000_000)).toBe(
      'This file is too large: the limit is 1.00 MB.',
    )
    expect(
      describeUploadError(
        new ApiError(400, 'INVALID_REQUEST', 'x', [{ field: 'contentType', message: 'm' }]),
        1,
      ),
    ).toMatch(/not supported/)
    expect(describeUploadError(new ApiError(0, 'NETWORK', 'x'), 1)).toMatch(/Network connection lost/)
    expect(
      describeUploadError(Object.assign(new Error('Unknown error'), { source: { status: 0 } }), 1),
    ).toMatch(/Network connection lost/)
    expect(describeUploadError(new Error('boom'), 1)).toBe('boom')
  })
})

describe('SpeedMeter', () => {
  it('measures speed and time left, smoothing the samples', () => {
    const meter = new SpeedMeter()
    meter.update(0, 10_000_000, 0)
    let p = meter.update(1_000_000, 10_000_000, 1000)
    expect(p.bytesPerSecond).toBe(1_000_000)
    expect(p.secondsLeft).toBe(9)
    expect(p.percent).toBe(10)
    p = meter.update(3_000_000, 10_000_000, 2000) // 2 MB/s now: 0.3 * 2 + 0.7 * 1
    expect(p.bytesPerSecond).toBeCloseTo(1_300_000)
  })

  it('waits for a measurable interval, and starts afresh after a pause or a retried part', () => {
    const meter = new SpeedMeter()
    meter.update(0, 100, 0)
    expect(meter.update(10, 100, 100).bytesPerSecond).toBeNull()
    meter.update(50, 100, 1000)
    meter.reset()
    expect(meter.snapshot(50, 100).bytesPerSecond).toBeNull()
    expect(meter.update(20, 100, 2000).bytesPerSecond).toBeNull() // fewer bytes: a part restarted
    expect(meter.snapshot(100, 100).secondsLeft).toBe(0)
  })
})

describe('the per-user limit on videos processing at once', () => {
  it('shows the API 429 message on the upload, in words a person can act on', async () => {
    const message =
      'you have 5 videos being processed, and at most 5 may be at once: start this one when one of them has finished'
    const body = JSON.stringify({ code: 'TOO_MANY_ACTIVE_VIDEOS', message })
    const fetchFn = vi.fn(
      async () =>
        new Response(body, {
          status: 429,
          headers: { 'Content-Type': 'application/json', 'Retry-After': '60' },
        }),
    )
    const api = new Api({ baseUrl: 'https://api.example.com', token: async () => 'tok', fetchFn: fetchFn })
    const error = await api.completeUpload('vid1', { uploadId: 'up1', parts: [] }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect((error as ApiError).status).toBe(429)
    expect(describeUploadError(error, 1)).toBe(message)
  })
})
