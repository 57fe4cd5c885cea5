import { ApiError, type Video, type VideoDetail, type Visibility } from '../api'
import {
  confirmDialog,
  copyText,
  emptyState,
  openDialog,
  poster,
  spinner,
  statusBadge,
  stepper,
  tagList,
  visibilityBadge,
} from '../components'
import type { AppContext, Page } from '../context'
import { h, toast } from '../dom'
import { keyedList } from '../keyed'
import { formatBytes, formatDate, parseTags } from '../format'
import { shareUrl, watchHref } from '../router'
import { isSettled, statusView } from '../status'

const POLL_MS = 2500

export const libraryPage: Page = async (ctx, main) => {
  main.append(
    h(
      'div',
      { class: 'page-head' },
      h(
        'div',
        {},
        h('h1', {}, 'Your videos'),
        h('p', { class: 'lead' }, 'Everything you uploaded, private and public. Status updates by itself.'),
      ),
      h('a', { href: '#/upload', class: 'btn btn-primary' }, 'Upload a video'),
    ),
  )
  const loading = spinner('Loading your videos…')
  const list = h('ul', { class: 'library', 'aria-label': 'Your videos' })
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, 'Load more')
  main.append(loading, list, h('div', { class: 'more' }, more))

  const videos = new Map<string, Video>()
  const details = new Map<string, VideoDetail>()
  let order: string[] = []
  let cursor: string | null = null
  let timer: number | undefined
  let stopped = false

  // Polling redraws only the rows whose video changed: focus and scroll stay where they were.
  const update = keyedList<Video>(list, {
    key: (video) => video.id,
    version: (video) => rowVersion(video, details.get(video.id)),
    render: (video) => row(video, details.get(video.id), actions),
  })
  const render = () => {
    const shown = order.map((id) => videos.get(id)).filter((v): v is Video => !!v)
    update(shown, emptyRow())
  }

  const refresh = async (first = false) => {
    // Reload as many as are shown (at most 100) so that the whole list stays current.
    const page = await ctx.api.listVideos(null, first ? 24 : Math.min(100, Math.max(24, order.length)))
    const fresh = page.items.map((v) => v.id)
    for (const v of page.items) videos.set(v.id, v)
    const older = first || !page.nextCursor ? [] : order.filter((id) => !fresh.includes(id))
    order = [...fresh, ...older]
    if (first) cursor = page.nextCursor
    // The stage of a video in processing is in its detail (the processing log).
    await Promise.all(
      page.items
        .filter((v) => v.status === 'PROCESSING' || (v.status === 'FAILED' && !details.has(v.id)))
        .map(async (v) => {
          try {
            details.set(v.id, await ctx.api.getVideo(v.id))
          } catch {
            details.delete(v.id)
          }
        }),
    )
    more.hidden = !cursor
    render()
  }

  const schedule = () => {
    window.clearTimeout(timer)
    if (stopped) return
    const busy = order.some((id) => {
      const v = videos.get(id)
      return v && !isSettled(v.status)
    })
    if (busy) timer = window.setTimeout(() => void poll(), POLL_MS)
  }
  const poll = async () => {
    try {
      await refresh()
    } catch {
      // a missed poll is retried with the next one
    }
    schedule()
  }

  const actions: RowActions = {
    async edit(video) {
      const changed = await editDialog(ctx, video)
      if (changed) {
        videos.set(changed.id, { ...videos.get(changed.id), ...changed })
        render()
        toast('Changes saved', 'success')
      }
    },
    async remove(video) {
      const sure = await confirmDialog(
        `Delete “${video.title}”?`,
        'The video, its source and all its streams are removed for good. This cannot be undone.',
        'Delete video',
      )
      if (!sure) return
      try {
        await ctx.api.deleteVideo(video.id)
        videos.delete(video.id)
        order = order.filter((id) => id !== video.id)
        render()
        toast(`Deleted “${video.title}”`, 'success')
        main.querySelector('h1')?.setAttribute('tabindex', '-1')
        ;(main.querySelector('h1') as HTMLElement | null)?.focus()
      } catch (error) {
        toast(error instanceof Error ? error.message : String(error), 'error')
      }
    },
    async reprocess(video) {
      try {
        const result = await ctx.api.reprocess(video.id)
        videos.set(video.id, result.video)
        details.delete(video.id)
        render()
        toast(`Processing “${video.title}” again`, 'info')
        schedule()
      } catch (error) {
        toast(error instanceof Error ? error.message : String(error), 'error')
      }
    },
  }

  const loadMore = async () => {
    more.disabled = true
    try {
      const page = await ctx.api.listVideos(cursor)
      for (const v of page.items) {
        videos.set(v.id, v)
        if (!order.includes(v.id)) order.push(v.id)
      }
      cursor = page.nextCursor
      more.hidden = !cursor
      render()
    } finally {
      more.disabled = false
    }
  }
  more.addEventListener('click', () => void loadMore())

  try {
    await refresh(true)
  } finally {
    loading.remove()
  }
  schedule()
  return () => {
    stopped = true
    window.clearTimeout(timer)
  }
}

interface RowActions {
  edit(video: Video): Promise<void>
  remove(video: Video): Promise<void>
  reprocess(video: Video): Promise<void>
}

function emptyRow(): HTMLElement {
  const upload = h('a', { href: '#/upload', class: 'btn btn-primary' }, 'Upload a video')
  const text = 'Upload your first video: it is processed into streams for every screen.'
  return h('li', {}, emptyState('No videos yet', text, upload))
}

/** What a row shows. Signed URLs are left out: they are re-signed on every poll, and the
 * poster already shown does not need a new signature. */
function rowVersion(video: Video, detail: VideoDetail | undefined): string {
  const posterPath = video.posterUrl?.split('?')[0] ?? null
  return JSON.stringify([{ ...video, posterUrl: posterPath }, detail?.processingLog ?? []])
}

function row(video: Video, detail: VideoDetail | undefined, actions: RowActions): HTMLElement {
  const view = statusView(video.status, detail?.processingLog ?? [])
  const ready = video.status === 'COMPLETED'
  const titleId = `video-title-${video.id}`
  const title = ready ? h('a', { href: watchHref(video.id) }, video.title) : h('span', {}, video.title)
  // Ids that stay the same across polls, so that focus can return to a rebuilt row.
  const button = (action: string, label: string, onclick: () => void, extra: Record<string, string> = {}) =>
    h(
      'button',
      {
        type: 'button',
        id: `${action}-${video.id}`,
        class: 'btn btn-small',
        onclick,
        'aria-describedby': titleId,
        ...extra,
      },
      label,
    )
  const copyLink = async () => {
    const ok = await copyText(shareUrl(video.id, window.location))
    toast(ok ? 'Link copied' : shareUrl(video.id, window.location))
  }
  const failure =
    video.status === 'FAILED'
      ? h(
          'div',
          { class: 'failure', role: 'note' },
          h(
            'p',
            { class: 'error-text' },
            h('strong', {}, 'Processing failed: '),
            video.error?.message || 'an unknown error',
          ),
          video.error?.code ? h('p', { class: 'help' }, `Error code ${video.error.code}`) : null,
        )
      : null
  return h(
    'li',
    { class: 'library-row', 'data-video-id': video.id, 'data-status': video.status },
    ready
      ? h(
          'a',
          { href: watchHref(video.id), tabindex: '-1', 'aria-hidden': 'true' },
          poster(video.posterUrl ?? null, video.title, video.durationSeconds),
        )
      : poster(null, video.title, video.durationSeconds),
    h(
      'div',
      { class: 'row-body' },
      h('h2', { class: 'video-title', id: titleId }, title),
      h('div', { class: 'badges' }, statusBadge(view), visibilityBadge(video.visibility)),
      !view.terminal
        ? h('div', { class: 'progress-stage' }, stepper(view), h('p', { class: 'help' }, view.detail))
        : null,
      failure,
      video.description ? h('p', { class: 'description clamp' }, video.description) : null,
      tagList(video.tags),
      h(
        'p',
        { class: 'meta' },
        `${video.originalFilename} · ${formatBytes(video.sizeBytes)} · uploaded ${formatDate(video.createdAt)}`,
        video.width && video.height ? ` · ${video.width}×${video.height}` : '',
      ),
    ),
    h(
      'div',
      { class: 'row-actions' },
      ready
        ? h(
            'a',
            {
              href: watchHref(video.id),
              id: `watch-${video.id}`,
              class: 'btn btn-small btn-primary',
              'aria-describedby': titleId,
            },
            'Watch',
          )
        : null,
      video.status === 'FAILED'
        ? button('reprocess', 'Reprocess', () => void actions.reprocess(video), {
            class: 'btn btn-small btn-primary',
          })
        : null,
      button('edit', 'Edit', () => void actions.edit(video)),
      ready ? button('copy-link', 'Copy link', () => void copyLink()) : null,
      button('delete', 'Delete', () => void actions.remove(video), {
        class: 'btn btn-small btn-danger-quiet',
      }),
    ),
  )
}

/** The edit form; resolves with the changed video, or null when cancelled. */
function editDialog(ctx: AppContext, video: Video): Promise<Video | null> {
  return new Promise((resolve) => {
    let result: Video | null = null
    const field = (id: string, label: string, control: HTMLElement, help?: string) =>
      h(
        'div',
        { class: 'field' },
        h('label', { for: id }, label),
        control,
        help ? h('p', { class: 'help', id: `${id}-help` }, help) : null,
        h('p', { class: 'error-text field-error', id: `${id}-error`, hidden: true }),
      )
    const title = h('input', {
      id: 'edit-title',
      name: 'title',
      required: true,
      maxlength: 200,
      value: video.title,
    })
    const description = h('textarea', {
      id: 'edit-description',
      name: 'description',
      maxlength: 5000,
      rows: 4,
    })
    description.value = video.description
    const tags = h('input', {
      id: 'edit-tags',
      name: 'tags',
      value: video.tags.join(', '),
      'aria-describedby': 'edit-tags-help',
    })
    const visibility = h(
      'select',
      { id: 'edit-visibility', name: 'visibility' },
      h('option', { value: 'private', selected: video.visibility === 'private' }, 'Private: only you'),
      h(
        'option',
        { value: 'public', selected: video.visibility === 'public' },
        'Public: in the catalog for everyone',
      ),
    )
    const formError = h('p', { class: 'error-text', role: 'alert', hidden: true })
    const form = h(
      'form',
      { class: 'stack', id: 'edit-form', novalidate: true },
      field('edit-title', 'Title', title),
      field('edit-description', 'Description', description),
      field('edit-tags', 'Tags', tags, 'Separate tags with commas.'),
      field('edit-visibility', 'Visibility', visibility),
      formError,
    )
    const cancel = h('button', { type: 'button', class: 'btn btn-quiet' }, 'Cancel')
    const save = h('button', { type: 'submit', class: 'btn btn-primary', form: 'edit-form' }, 'Save changes')
    const { dialog, close } = openDialog('Edit video', form, [cancel, save])
    cancel.addEventListener('click', close)
    dialog.addEventListener('close', () => resolve(result))
    const submit = async (event: SubmitEvent) => {
      event.preventDefault()
      for (const el of form.querySelectorAll<HTMLElement>('.field-error')) el.hidden = true
      formError.hidden = true
      if (!title.value.trim()) {
        showFieldError('edit-title', 'Give the video a title.')
        return
      }
      save.disabled = true
      try {
        result = await ctx.api.updateVideo(video.id, {
          title: title.value.trim(),
          description: description.value,
          tags: parseTags(tags.value),
          visibility: visibility.value as Visibility,
        })
        close()
      } catch (error) {
        if (error instanceof ApiError && error.fields.length) {
          for (const f of error.fields) {
            const name = f.field.split('.').pop() ?? ''
            if (!showFieldError(`edit-${name}`, f.message)) formError.hidden = false
          }
          formError.textContent = error.message
        } else {
          formError.textContent = error instanceof Error ? error.message : String(error)
          formError.hidden = false
        }
      } finally {
        save.disabled = false
      }
    }
    form.addEventListener('submit', (event) => void submit(event))
    title.focus()
  })
}

function showFieldError(id: string, message: string): boolean {
  const control = document.getElementById(id)
  const error = document.getElementById(`${id}-error`)
  if (!control || !error) return false
  error.textContent = message
  error.hidden = false
  control.setAttribute('aria-invalid', 'true')
  control.setAttribute('aria-describedby', `${id}-error`)
  control.focus()
  return true
}
