/** A video's status and processing stage, for people (pure; tested). */

import type { LogEntry, VideoStatus } from './api'

export const STAGES = ['Upload', 'Analyse', 'Transcode', 'Finalise', 'Ready'] as const
export type Stage = (typeof STAGES)[number]

export interface StatusView {
  label: string
  tone: 'neutral' | 'busy' | 'ok' | 'error'
  stage: number // index into STAGES reached so far (the one in progress)
  detail: string
  terminal: boolean
}

/** Still changing by itself: the library keeps polling while any video is. */
export function isSettled(status: VideoStatus): boolean {
  return status === 'COMPLETED' || status === 'FAILED' || status === 'DELETED'
}

/**
 * The pipeline logs a stage when it ends (claim, probe, transcode:<job>, finalise); the
 * transcode entries arrive with finalise. So while PROCESSING: no probe yet = analysing,
 * probe done = transcoding.
 */
export function statusView(status: VideoStatus, log: LogEntry[] = []): StatusView {
  const done = (prefix: string) => log.some((e) => e.stage.startsWith(prefix) && e.outcome === 'SUCCEEDED')
  switch (status) {
    case 'PENDING_UPLOAD':
      return {
        label: 'Waiting for upload',
        tone: 'neutral',
        stage: 0,
        detail: 'The source has not arrived yet.',
        terminal: false,
      }
    case 'UPLOADED':
      return {
        label: 'Queued',
        tone: 'busy',
        stage: 1,
        detail: 'Uploaded; processing starts shortly.',
        terminal: false,
      }
    case 'PROCESSING': {
      if (done('finalise')) {
        return {
          label: 'Finishing',
          tone: 'busy',
          stage: 3,
          detail: 'Publishing the streams.',
          terminal: false,
        }
      }
      if (done('probe')) {
        return {
          label: 'Transcoding',
          tone: 'busy',
          stage: 2,
          detail: 'Encoding every quality level and the thumbnails.',
          terminal: false,
        }
      }
      return {
        label: 'Analysing',
        tone: 'busy',
        stage: 1,
        detail: 'Reading the source and planning the qualities.',
        terminal: false,
      }
    }
    case 'COMPLETED':
      return { label: 'Ready', tone: 'ok', stage: 4, detail: '', terminal: true }
    case 'FAILED':
      return { label: 'Failed', tone: 'error', stage: failedStage(log), detail: '', terminal: true }
    case 'DELETED':
      return { label: 'Deleted', tone: 'neutral', stage: 0, detail: '', terminal: true }
  }
}

function failedStage(log: LogEntry[]): number {
  const failed = log.find((e) => e.outcome === 'FAILED' && e.stage !== 'failure')
  if (!failed) return 1
  if (failed.stage.startsWith('transcode')) return 2
  if (failed.stage.startsWith('finalise')) return 3
  return 1
}
