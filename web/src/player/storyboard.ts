/**
 * Seek previews from the storyboard: a WebVTT file whose cues name a tile of one sprite
 * sheet, e.g. `storyboard.jpg#xywh=160,0,160,90` (see transcoder/thumbnails.py).
 */

export interface StoryboardCue {
  start: number
  end: number
  image: string // absolute URL (resolved against the VTT's URL), without the fragment
  x: number
  y: number
  w: number
  h: number
}

const TIMING = /^\s*((?:\d+:)?\d{1,2}:\d{2}(?:\.\d{1,3})?)\s+-->\s+((?:\d+:)?\d{1,2}:\d{2}(?:\.\d{1,3})?)/

export function parseVttTime(text: string): number {
  const parts = text.trim().split(':')
  let seconds = 0
  for (const part of parts) seconds = seconds * 60 + Number.parseFloat(part)
  return seconds
}

export function parseStoryboardVtt(text: string, vttUrl: string): StoryboardCue[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/)
  if (!lines[0]?.startsWith('WEBVTT')) throw new Error('not a WebVTT file')
  const cues: StoryboardCue[] = []
  for (let i = 1; i < lines.length; i++) {
    const timing = TIMING.exec(lines[i] ?? '')
    if (!timing) continue
    const payload = (lines[i + 1] ?? '').trim()
    i += 1
    const hashAt = payload.lastIndexOf('#xywh=')
    if (hashAt < 0) continue
    const numbers = payload
      .slice(hashAt + 6)
      .split(',')
      .map((n) => Number.parseInt(n, 10))
    if (numbers.length !== 4 || numbers.some((n) => !Number.isFinite(n))) continue
    const [x, y, w, h] = numbers as [number, number, number, number]
    let image: string
    try {
      image = new URL(payload.slice(0, hashAt), vttUrl).toString()
    } catch {
      continue
    }
    // A relative reference drops the VTT's query (the signature): the caller signs it again.
    cues.push({ start: parseVttTime(timing[1]), end: parseVttTime(timing[2]), image, x, y, w, h })
  }
  return cues.sort((a, b) => a.start - b.start)
}

/** The cue showing at `time` (binary search; the last cue covers times past its end). */
export function cueAt(cues: StoryboardCue[], time: number): StoryboardCue | null {
  if (!cues.length || !Number.isFinite(time)) return null
  let low = 0
  let high = cues.length - 1
  while (low < high) {
    const mid = (low + high + 1) >> 1
    if (cues[mid].start <= time) low = mid
    else high = mid - 1
  }
  return cues[low] // before the first cue's start: the first tile
}
