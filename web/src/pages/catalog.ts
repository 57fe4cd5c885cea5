import type { PublicVideo } from '../api'
import { emptyState, poster, spinner, tagList } from '../components'
import type { Page } from '../context'
import { h } from '../dom'
import { formatDate } from '../format'
import { watchHref } from '../router'

export function catalogCard(video: PublicVideo): HTMLElement {
  return h(
    'li',
    { class: 'video-card', 'data-video-id': video.id },
    h(
      'a',
      { href: watchHref(video.id), class: 'card-link' },
      poster(video.posterUrl, video.title, video.durationSeconds),
      h('h2', { class: 'video-title' }, video.title),
    ),
    h('p', { class: 'meta' }, formatDate(video.processedAt ?? video.createdAt)),
    tagList(video.tags.slice(0, 4)),
  )
}

export const catalogPage: Page = async (ctx, main) => {
  main.append(
    h(
      'div',
      { class: 'page-head' },
      h(
        'div',
        {},
        h('h1', {}, 'Discover'),
        h('p', { class: 'lead' }, 'Public videos from everyone on StreamForge, newest first.'),
      ),
      ctx.auth.user ? h('a', { href: '#/upload', class: 'btn btn-primary' }, 'Upload a video') : null,
    ),
  )
  const grid = h('ul', { class: 'video-grid', 'aria-label': 'Public videos' })
  const loading = spinner('Loading videos…')
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, 'Load more')
  main.append(loading, grid, h('div', { class: 'more' }, more))
  let cursor: string | null = null
  const load = async () => {
    more.disabled = true
    try {
      const page = await ctx.api.catalog(cursor)
      grid.append(...page.items.map(catalogCard))
      cursor = page.nextCursor
      more.hidden = !cursor
      if (!grid.children.length) {
        grid.replaceWith(
          emptyState(
            'Nothing here yet',
            'No public videos so far. Upload one and make it public to see it here.',
            h('a', { href: '#/upload', class: 'btn btn-primary' }, 'Upload a video'),
          ),
        )
      }
    } finally {
      more.disabled = false
      loading.remove()
    }
  }
  more.addEventListener('click', () => void load())
  await load()
}
