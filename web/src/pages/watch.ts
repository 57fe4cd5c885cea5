import { ApiError, type PublicVideoDetail, type VideoDetail } from '../api'
import { shareBox, spinner, statusBadge, stepper, tagList, visibilityBadge } from '../components'
import type { AppContext, Page } from '../context'
import { h } from '../dom'
import { formatClock, formatDate } from '../format'
import { createPlayer } from '../player/player'
import { shareUrl } from '../router'
import { isSettled, statusView } from '../status'
import { captionsCard } from './captions'

type Detail = (VideoDetail & { own: true }) | (PublicVideoDetail & { own: false })

/** The owner's view when signed in (any status, private too), else the public one. 404 for
 * both looks the same: a private video of someone else does not exist for this user. */
async function loadVideo(ctx: AppContext, id: string): Promise<Detail | null> {
  if (ctx.auth.user) {
    try {
      return { ...(await ctx.api.getVideo(id)), own: true }
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404) throw error
    }
  }
  try {
    return { ...(await ctx.api.catalogVideo(id)), own: false }
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null
    throw error
  }
}

export const watchPage: Page = async (ctx, main, route) => {
  const id = route.params.id
  const loading = spinner('Loading the video…')
  main.append(loading)
  const video = await loadVideo(ctx, id).finally(() => loading.remove())
  if (!video) {
    main.append(
      h(
        'div',
        { class: 'empty' },
        h('h1', {}, 'Video not found'),
        h(
          'p',
          {},
          ctx.auth.user
            ? 'It may have been deleted, or it is private to someone else.'
            : 'It may be private: sign in if it is yours.',
        ),
        h('a', { href: '#/', class: 'btn' }, 'Back to the catalog'),
      ),
    )
    return
  }
  document.title = `${video.title} · StreamForge`
  const layout = h('article', { class: 'watch', 'aria-labelledby': 'watch-title' })
  main.append(layout)

  let stop: (() => void) | undefined
  if (video.playback?.hlsUrl) {
    const format = route.query.get('format') === 'dash' ? 'dash' : 'hls'
    const player = createPlayer(video.playback, video.title, format)
    layout.append(player.element)
    // A long video plays from its first qualities while the others still encode.
    if (video.own && video.status === 'PROCESSING') {
      layout.append(
        h(
          'p',
          { class: 'help early-playback', role: 'status' },
          'Playing in its first qualities: higher qualities are on their way.',
        ),
      )
    }
    stop = () => player.destroy()
  } else if (video.own) {
    const view = statusView(video.status, video.processingLog)
    layout.append(
      h(
        'div',
        { class: 'not-ready card' },
        h('h2', {}, 'Not ready to play yet'),
        statusBadge(view),
        isSettled(video.status) ? null : stepper(view),
        h('p', {}, video.status === 'FAILED' ? (video.error?.message ?? 'Processing failed.') : view.detail),
        h('a', { href: '#/library', class: 'btn' }, 'Go to your library'),
      ),
    )
    if (!isSettled(video.status)) {
      const timer = window.setTimeout(
        () => ctx.navigate(`#/watch/${encodeURIComponent(id)}?t=${Date.now()}`),
        3000,
      )
      stop = () => window.clearTimeout(timer)
    }
  }

  const info = h(
    'div',
    { class: 'watch-info' },
    h('h1', { id: 'watch-title' }, video.title),
    h(
      'div',
      { class: 'badges' },
      video.own ? visibilityBadge(video.visibility) : null,
      video.durationSeconds ? h('span', { class: 'meta' }, formatClock(video.durationSeconds)) : null,
      h('span', { class: 'meta' }, formatDate(video.processedAt ?? video.createdAt)),
    ),
    video.description ? h('p', { class: 'description' }, video.description) : null,
    tagList(video.tags),
    video.playback?.downloadUrl
      ? h(
          'a',
          // The response says `Content-Disposition: attachment` with the file name.
          { class: 'btn download', href: video.playback.downloadUrl, download: true },
          'Download MP4',
        )
      : video.own && video.downloadStatus === 'PREPARING'
        ? h(
            'p',
            { class: 'help', id: 'download-preparing' },
            'The MP4 download is being prepared: reload in a moment.',
          )
        : null,
    !video.own || video.status === 'COMPLETED'
      ? shareBox(shareUrl(video.id, window.location), 'share-link')
      : null,
    video.own && video.visibility === 'private'
      ? h(
          'p',
          { class: 'help' },
          'This video is private: the link works for you only. Make it public in your library to share it.',
        )
      : null,
  )
  layout.append(info)
  // The owner adds caption tracks at any stage: a finished video's manifests are rewritten.
  if (video.own) {
    layout.append(
      captionsCard(ctx, video.id, () => ctx.navigate(`#/watch/${encodeURIComponent(id)}?t=${Date.now()}`)),
    )
  }
  return stop
}
