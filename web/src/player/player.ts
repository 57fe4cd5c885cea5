/**
 * The video player: hls.js for adaptive streaming (with the signed query on every request),
 * custom controls with a quality menu, storyboard previews over the timeline, and keyboard
 * controls. Safari plays HLS natively, with the same signed master URL.
 */

import Hls, {
  type HlsConfig,
  type LoaderCallbacks,
  type LoaderConfiguration,
  type LoaderContext,
} from 'hls.js'

import type { Playback } from '../api'
import { h } from '../dom'
import { formatClock } from '../format'
import { audioTrackMenu } from './audio'
import { attachDash, type DashPlayback } from './dash'
import { icon } from './icons'
import { actionForKey, KEY_HELP, type PlayerAction } from './keyboard'
import { qualityMenu } from './quality'
import { freshUrl, originOf, signedQueryOf, withSignature } from './signing'
import { cueAt, parseStoryboardVtt, type StoryboardCue } from './storyboard'

export interface PlayerHandle {
  element: HTMLElement
  destroy(): void
}

function signedLoader(signedQuery: string, origin: string): HlsConfig['loader'] {
  const Base = Hls.DefaultConfig.loader
  return class SignedLoader extends Base {
    override load(
      context: LoaderContext,
      config: LoaderConfiguration,
      callbacks: LoaderCallbacks<LoaderContext>,
    ): void {
      context.url = withSignature(context.url, signedQuery, origin)
      super.load(context, config, callbacks)
    }
  }
}

/** `format` 'dash' plays the DASH manifest with dash.js instead (when the video has one). */
export function createPlayer(
  playback: Playback,
  title: string,
  format: 'hls' | 'dash' = 'hls',
): PlayerHandle {
  const hlsUrl = playback.hlsUrl as string
  const origin = originOf(hlsUrl)

  const video = h('video', {
    class: 'video',
    playsinline: true,
    preload: 'metadata',
    poster: playback.posterUrl ?? null, // no crossorigin: the library's <img> cached it without CORS
    'aria-label': title,
  })
  const status = h('p', { class: 'player-status', role: 'status', 'aria-live': 'polite' })
  const playButton = h(
    'button',
    { type: 'button', class: 'ctl ctl-play', 'aria-label': 'Play' },
    icon('play'),
  )
  const bigPlay = h('button', { type: 'button', class: 'big-play', 'aria-label': 'Play video' }, icon('play'))
  const seek = h('input', {
    type: 'range',
    class: 'seek',
    min: 0,
    max: 1000,
    step: 1,
    value: 0,
    'aria-label': 'Seek',
    'aria-valuetext': '0:00 of 0:00',
  })
  const buffered = h('div', { class: 'seek-buffered' })
  const preview = h(
    'div',
    { class: 'storyboard-preview', hidden: true, 'aria-hidden': 'true' },
    h('div', { class: 'storyboard-image' }),
    h('span', { class: 'storyboard-time' }),
  )
  const time = h('span', { class: 'time' }, '0:00 / 0:00')
  const muteButton = h(
    'button',
    { type: 'button', class: 'ctl ctl-mute', 'aria-label': 'Mute' },
    icon('volume'),
  )
  const volume = h('input', {
    type: 'range',
    class: 'volume',
    min: 0,
    max: 1,
    step: 0.05,
    value: 1,
    'aria-label': 'Volume',
  })
  const quality = h(
    'select',
    { class: 'quality', id: 'quality-select', 'aria-label': 'Quality' },
    h('option', { value: '-1' }, 'Auto'),
  )
  const audioTrack = h('select', {
    class: 'audio-track',
    id: 'audio-track-select',
    'aria-label': 'Audio track',
    hidden: true,
  })
  // Caption tracks (the master's SUBTITLES group), shown once hls.js has listed any.
  const captions = h(
    'select',
    { class: 'captions', id: 'captions-select', 'aria-label': 'Captions', hidden: true },
    h('option', { value: '-1' }, 'Captions off'),
  )
  const captionsLabel = h('label', { class: 'visually-hidden', for: 'captions-select' }, 'Captions')
  const fullButton = h(
    'button',
    { type: 'button', class: 'ctl ctl-full', 'aria-label': 'Full screen' },
    icon('fullscreen'),
  )
  const help = h(
    'details',
    { class: 'key-help' },
    h('summary', {}, 'Keyboard shortcuts'),
    h(
      'dl',
      {},
      KEY_HELP.flatMap(([keys, what]) => [h('dt', {}, keys), h('dd', {}, what)]),
    ),
  )

  const controls = h(
    'div',
    { class: 'controls' },
    h('div', { class: 'seek-wrap' }, buffered, seek, preview),
    h(
      'div',
      { class: 'control-row' },
      playButton,
      time,
      h('span', { class: 'spacer' }),
      muteButton,
      volume,
      h('label', { class: 'visually-hidden', for: 'audio-track-select' }, 'Audio track'),
      audioTrack,
      captionsLabel,
      captions,
      h('label', { class: 'visually-hidden', for: 'quality-select' }, 'Quality'),
      quality,
      fullButton,
    ),
  )
  const element = h(
    'div',
    {
      class: 'player',
      tabindex: 0,
      role: 'region',
      'aria-label': `Video player: ${title}`,
      'data-levels': '0',
      'data-captions': '0',
    },
    h('div', { class: 'stage' }, video, bigPlay, status),
    controls,
  )
  const wrapper = h('div', { class: 'player-wrap' }, element, help)

  // --- playback -----------------------------------------------------------------------
  let hls: Hls | null = null
  let dash: DashPlayback | null = null
  let destroyed = false
  if (format === 'dash' && playback.dashUrl) {
    element.dataset.engine = 'dash'
    quality.disabled = true // dash.js's own adaptation picks the rung
    void attachDash(video, playback.dashUrl, playback.signedQuery, origin, {
      onTracks: (tracks) => {
        element.dataset.tracks = `video:${tracks.video},audio:${tracks.audio}`
      },
      onError: (message) => {
        status.textContent = message
      },
    }).then((attached) => {
      if (destroyed) attached.destroy()
      else dash = attached
    })
  } else if (Hls.isSupported()) {
    element.dataset.engine = 'hls'
    hls = new Hls({
      loader: signedLoader(playback.signedQuery, origin),
      capLevelToPlayerSize: false,
      enableWorker: true,
    })
    hls.on(Hls.Events.MANIFEST_PARSED, () => updateQuality())
    hls.on(Hls.Events.LEVEL_SWITCHED, () => updateQuality())
    hls.on(Hls.Events.AUDIO_TRACKS_UPDATED, () => updateAudioTracks())
    hls.on(Hls.Events.AUDIO_TRACK_SWITCHED, () => updateAudioTracks())
    hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, () => updateCaptions())
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (!data.fatal) return
      if (data.type === Hls.ErrorTypes.NETWORK_ERROR) {
        const code = (data.response as { code?: number } | undefined)?.code
        status.textContent =
          code === 403
            ? 'This link has expired. Reload the page to watch on.'
            : 'The stream stopped loading: check the connection. Retrying…'
        hls?.startLoad()
      } else if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
        hls?.recoverMediaError()
      } else {
        status.textContent = 'This video cannot be played here.'
      }
    })
    hls.loadSource(freshUrl(hlsUrl))
    hls.attachMedia(video)
  } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
    video.src = freshUrl(hlsUrl) // Safari: native HLS (the master's query signs the playlists it fetches)
    quality.disabled = true
  } else {
    status.textContent = 'This browser cannot play adaptive streams.'
  }

  let chosen = -1 // what the viewer picked: -1 automatic, else a level index
  function updateQuality(): void {
    if (!hls) return
    // hls.currentLevel still names the old rung until the switch: show the choice at once.
    const menu = qualityMenu(hls.levels, chosen < 0, chosen < 0 ? hls.currentLevel : chosen)
    element.dataset.levels = String(hls.levels.length)
    quality.replaceChildren(
      ...menu.options.map((o) =>
        h('option', { value: String(o.value), selected: o.value === menu.selected }, o.label),
      ),
    )
    quality.value = String(menu.selected)
  }
  quality.addEventListener('change', () => {
    if (!hls) return
    const level = Number(quality.value)
    const label = quality.selectedOptions[0]?.textContent ?? ''
    chosen = level
    hls.currentLevel = level // -1: automatic again
    updateQuality()
    status.textContent = level < 0 ? 'Quality: automatic' : `Quality: ${label}`
  })

  // The audio-track menu: only when the master lists more than one audio rendition.
  function updateAudioTracks(): void {
    if (!hls) return
    const menu = audioTrackMenu(hls.audioTracks, hls.audioTrack)
    audioTrack.hidden = menu === null
    element.dataset.audioTracks = String(hls.audioTracks.length)
    element.dataset.audioTrack = String(hls.audioTrack) // the one playing, once hls.js switched
    if (!menu) return
    audioTrack.replaceChildren(
      ...menu.options.map((o) =>
        h('option', { value: String(o.value), selected: o.value === menu.selected }, o.label),
      ),
    )
    audioTrack.value = String(menu.selected)
  }
  audioTrack.addEventListener('change', () => {
    if (!hls) return
    hls.audioTrack = Number(audioTrack.value)
    status.textContent = `Audio: ${audioTrack.selectedOptions[0]?.textContent ?? ''}`
  })
  function updateCaptions(): void {
    if (!hls) return
    const tracks = hls.subtitleTracks
    element.dataset.captions = String(tracks.length)
    captions.hidden = tracks.length === 0
    captions.replaceChildren(
      h('option', { value: '-1' }, 'Captions off'),
      ...tracks.map((track, index) =>
        h('option', { value: String(index) }, track.name || track.lang || `Track ${index + 1}`),
      ),
    )
    captions.value = String(hls.subtitleTrack)
  }
  captions.addEventListener('change', () => {
    if (!hls) return
    const index = Number(captions.value)
    hls.subtitleDisplay = index >= 0
    hls.subtitleTrack = index // -1: off
    const label = captions.selectedOptions[0]?.textContent ?? ''
    status.textContent = index < 0 ? 'Captions off' : `Captions: ${label}`
  })

  // --- controls -----------------------------------------------------------------------
  const toggle = () =>
    video.paused || video.ended ? void video.play().catch(() => undefined) : video.pause()
  playButton.addEventListener('click', toggle)
  bigPlay.addEventListener('click', () => {
    toggle()
    element.focus()
  })
  video.addEventListener('click', toggle)
  const syncPlay = () => {
    const paused = video.paused || video.ended
    playButton.replaceChildren(icon(paused ? 'play' : 'pause'))
    playButton.setAttribute('aria-label', paused ? 'Play' : 'Pause')
    bigPlay.hidden = !paused
    element.classList.toggle('playing', !paused)
  }
  video.addEventListener('play', syncPlay)
  video.addEventListener('pause', syncPlay)
  video.addEventListener('ended', syncPlay)

  let seeking = false
  const syncTime = () => {
    const duration = Number.isFinite(video.duration) ? video.duration : 0
    time.textContent = `${formatClock(video.currentTime)} / ${formatClock(duration)}`
    if (!seeking && duration) seek.value = String(Math.round((video.currentTime / duration) * 1000))
    seek.setAttribute('aria-valuetext', `${formatClock(video.currentTime)} of ${formatClock(duration)}`)
    const end = video.buffered.length ? video.buffered.end(video.buffered.length - 1) : 0
    buffered.style.width = duration ? `${Math.min(100, (end / duration) * 100)}%` : '0'
  }
  video.addEventListener('timeupdate', syncTime)
  video.addEventListener('durationchange', syncTime)
  video.addEventListener('progress', syncTime)
  seek.addEventListener('input', () => {
    seeking = true
    if (Number.isFinite(video.duration)) video.currentTime = (Number(seek.value) / 1000) * video.duration
  })
  seek.addEventListener('change', () => {
    seeking = false
  })

  const syncVolume = () => {
    const muted = video.muted || video.volume === 0
    muteButton.replaceChildren(icon(muted ? 'muted' : 'volume'))
    muteButton.setAttribute('aria-label', muted ? 'Unmute' : 'Mute')
    volume.value = String(video.muted ? 0 : video.volume)
  }
  muteButton.addEventListener('click', () => {
    video.muted = !video.muted
  })
  volume.addEventListener('input', () => {
    video.volume = Number(volume.value)
    video.muted = video.volume === 0
  })
  video.addEventListener('volumechange', syncVolume)

  const fullscreen = () => {
    if (document.fullscreenElement) void document.exitFullscreen()
    else void element.requestFullscreen?.().catch(() => undefined)
  }
  fullButton.addEventListener('click', fullscreen)

  const run = (action: PlayerAction) => {
    const duration = Number.isFinite(video.duration) ? video.duration : 0
    switch (action.type) {
      case 'toggle':
        return toggle()
      case 'seekBy':
        video.currentTime = Math.max(0, Math.min(duration || Infinity, video.currentTime + action.seconds))
        return
      case 'seekTo':
        if (duration) video.currentTime = Math.min(duration - 0.1, action.fraction * duration)
        return
      case 'volumeBy':
        video.muted = false
        video.volume = Math.max(0, Math.min(1, video.volume + action.delta))
        status.textContent = `Volume ${Math.round(video.volume * 100)}%`
        return
      case 'mute':
        video.muted = !video.muted
        return
      case 'fullscreen':
        return fullscreen()
    }
  }
  element.addEventListener('keydown', (event) => {
    const target = event.target as HTMLElement
    // Let the form controls keep their own keys (a range's arrows, a select's letters).
    if (target.tagName === 'SELECT' || (target.tagName === 'INPUT' && event.key.startsWith('Arrow'))) return
    if (target.tagName === 'BUTTON' && (event.key === ' ' || event.key === 'Enter')) return
    const action = actionForKey(event)
    if (!action) return
    event.preventDefault()
    run(action)
  })

  // --- storyboard previews over the timeline -------------------------------------------
  let cues: StoryboardCue[] = []
  if (playback.storyboardVttUrl) {
    const vttUrl = playback.storyboardVttUrl
    fetch(vttUrl)
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error(`HTTP ${r.status}`))))
      .then((text) => {
        // The sprite sits beside its WebVTT in thumbs/, under the same signed policy.
        const thumbsQuery = signedQueryOf(vttUrl)
        cues = parseStoryboardVtt(text, vttUrl).map((c) => ({
          ...c,
          image: withSignature(c.image, thumbsQuery, origin),
        }))
        element.dataset.storyboard = String(cues.length)
        const first = cues[0]
        if (first) new Image().src = first.image // warm the sprite before the first hover
      })
      .catch(() => {
        element.dataset.storyboard = 'error'
      })
  }
  const image = preview.querySelector('.storyboard-image') as HTMLElement
  const previewTime = preview.querySelector('.storyboard-time') as HTMLElement
  const showPreview = (clientX: number) => {
    const duration = Number.isFinite(video.duration) ? video.duration : 0
    const rect = seek.getBoundingClientRect()
    if (!duration || rect.width <= 0) return
    const fraction = Math.max(0, Math.min(1, (clientX - rect.left) / rect.width))
    const at = fraction * duration
    previewTime.textContent = formatClock(at)
    const cue = cueAt(cues, at)
    if (cue) {
      image.hidden = false
      image.style.width = `${cue.w}px`
      image.style.height = `${cue.h}px`
      image.style.backgroundImage = `url("${cue.image.replace(/"/g, '%22')}")`
      image.style.backgroundPosition = `-${cue.x}px -${cue.y}px`
    } else {
      image.hidden = true
    }
    preview.hidden = false
    const width = cue?.w ?? 60
    const left = Math.max(width / 2, Math.min(rect.width - width / 2, clientX - rect.left))
    preview.style.left = `${left}px`
  }
  seek.addEventListener('pointermove', (event) => showPreview(event.clientX))
  seek.addEventListener('pointerenter', (event) => showPreview(event.clientX))
  seek.addEventListener('pointerleave', () => {
    preview.hidden = true
  })

  syncPlay()
  syncVolume()
  return {
    element: wrapper,
    destroy() {
      destroyed = true
      dash?.destroy()
      hls?.destroy()
      video.removeAttribute('src')
      video.load()
    },
  }
}
