/** The audio-track menu: one entry per audio rendition, offered only when there are several (pure; tested). */

export interface AudioTrackInfo {
  name: string // the master playlist's NAME ("English", "French Commentary")
  lang?: string // its LANGUAGE ("eng", "fra"; "und" when the source had no tag)
  default?: boolean
  characteristics?: string // "public.accessibility.describes-video" for a description
}

export interface AudioOption {
  value: number // hls.js audio track index
  label: string
}

export interface AudioMenu {
  options: AudioOption[]
  selected: number
}

const DESCRIBES_VIDEO = 'public.accessibility.describes-video'

function trackLabel(track: AudioTrackInfo, index: number, repeated: boolean): string {
  const name = track.name.trim() || `Track ${index + 1}`
  const described = track.characteristics?.split(',').includes(DESCRIBES_VIDEO) && !/descri/i.test(name)
  const label = described ? `${name} (audio description)` : name
  return repeated && track.lang && track.lang !== 'und' ? `${label} [${track.lang}]` : label
}

/**
 * `current` is hls.js's `audioTrack` (-1 before one is chosen: then the default, else the
 * first). Null with fewer than two tracks: there is nothing to choose.
 */
export function audioTrackMenu(tracks: AudioTrackInfo[], current: number): AudioMenu | null {
  if (tracks.length < 2) return null
  const names = tracks.map((t) => t.name.trim())
  const fallback = Math.max(
    0,
    tracks.findIndex((t) => t.default),
  )
  return {
    options: tracks.map((track, index) => ({
      value: index,
      label: trackLabel(track, index, names.filter((n) => n === names[index]).length > 1),
    })),
    selected: current >= 0 && current < tracks.length ? current : fallback,
  }
}
