/** What went wrong with an upload, in words a person can act on. */

import { ApiError } from '../api'
import { formatBytes } from '../format'

export function describeUploadError(error: unknown, maxUploadBytes: number): string {
  if (error instanceof ApiError) {
    if (error.isNetwork) return 'Network connection lost. The upload resumes when you retry.'
    if (error.status === 413 || error.code === 'TOO_LARGE') {
      return `This file is too large: the limit is ${formatBytes(maxUploadBytes)}.`
    }
    if (error.fields.some((f) => f.field.endsWith('contentType'))) {
      return 'This type of file is not supported. Upload a video (MP4, MOV, MKV, WebM, AVI, MPEG).'
    }
    if (error.status === 401) return 'Your session has ended. Sign in again to continue.'
    return error.message
  }
  const message = error instanceof Error ? error.message : String(error)
  const status = (error as { source?: { status?: number } } | null)?.source?.status
  if (status === 0 || /network|failed to fetch|unknown error/i.test(message)) {
    return 'Network connection lost. The upload resumes when you retry.'
  }
  return message || 'The upload failed.'
}
