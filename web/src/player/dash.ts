/**
 * DASH playback with dash.js, for `#/watch/{id}?format=dash` (hls.js stays the default).
 * dash.js is loaded only then: Vite puts it in a chunk of its own.
 *
 * The MPD is signed for `dash/`; its BaseURLs (`../hls/720p/`) point at the HLS segments,
 * so every other request gets the `hls/` query, exactly as hls.js's loader adds it.
 */

import type { MediaPlayerClass } from 'dashjs'

import { withSignature } from './signing'

export interface DashTracks {
  video: number
  audio: number
}

export interface DashPlayback {
  player: MediaPlayerClass
  destroy(): void
}

/** The tracks dash.js loaded: how many of each type, once it has a current one. */
export function loadedTracks(player: MediaPlayerClass): DashTracks {
  const count = (type: 'video' | 'audio') =>
    player.getCurrentTrackFor(type) ? player.getTracksFor(type).length : 0
  return { video: count('video'), audio: count('audio') }
}

export async function attachDash(
  video: HTMLVideoElement,
  dashUrl: string,
  signedQuery: string,
  origin: string,
  events: { onTracks(tracks: DashTracks): void; onError(message: string): void },
): Promise<DashPlayback> {
  const dashjs = await import('dashjs')
  const player = dashjs.MediaPlayer().create()
  player.addRequestInterceptor((request) => {
    request.url = withSignature(request.url, signedQuery, origin) // the MPD keeps its own
    return Promise.resolve(request)
  })
  player.on(dashjs.MediaPlayer.events.STREAM_INITIALIZED, () => events.onTracks(loadedTracks(player)))
  player.on(dashjs.MediaPlayer.events.ERROR, () => events.onError('This video cannot be played here.'))
  player.initialize(video, dashUrl, false)
  return {
    player,
    destroy() {
      player.destroy()
    },
  }
}
