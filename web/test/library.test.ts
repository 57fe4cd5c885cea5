import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import type { Page, Video, VideoDetail } from '../src/api'
import type { AppContext } from '../src/context'
import { keyedList } from '../src/keyed'
import { libraryPage } from '../src/pages/library'

function video(id: string, changes: Partial<Video> = {}): Video {
  return {
    id,
    title: `Video ${id}`,
    slug: id,
    description: '',
    tags: [],
    visibility: 'private',
    status: 'COMPLETED',
    originalFilename: `${id}.mp4`,
    contentType: 'video/mp4',
    sizeBytes: 1000,
    durationSeconds: 4,
    width: 1280,
    height: 720,
    error: null,
    renditions: [],
    posterUrl: `https://cdn.example/${id}/thumbs/poster.jpg?Signature=${Math.random()}`,
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
    uploadedAt: null,
    processedAt: null,
    playableAt: null,
    ...changes,
  }
}

function contextListing(pages: Video[][]): AppContext {
  let call = 0
  const listVideos = vi.fn(async (): Promise<Page<Video>> => {
    const items = pages[Math.min(call++, pages.length - 1)].map((v) => ({ ...v })) // fresh objects, as from JSON
    return { items, nextCursor: null }
  })
  const getVideo = vi.fn(async (id: string): Promise<VideoDetail> => ({
    ...video(id, { status: 'PROCESSING' }),
    playback: null,
    processingLog: [],
  }))
  return { api: { listVideos, getVideo } } as unknown as AppContext
}

const rowOf = (main: HTMLElement, id: string) =>
  main.querySelector<HTMLElement>(`.library-row[data-video-id='${id}']`)!

describe('the library updates in place while it polls', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => {
    vi.useRealTimers()
    document.body.replaceChildren()
  })

  it('keeps unchanged rows (and the focus in them), and redraws only the video that changed', async () => {
    // Given a library of a processing video and a completed one, with focus on the latter's Edit
    const processing = video('a', { status: 'PROCESSING', posterUrl: null })
    const done = video('b')
    const ctx = contextListing([
      [processing, done],
      [{ ...processing, status: 'COMPLETED' }, video('b')],
    ])
    const main = document.body.appendChild(document.createElement('main'))
    const stop = await libraryPage(ctx, main, {
      name: 'library',
      params: {},
      query: new URLSearchParams(),
      path: '/library',
    })
    const unchanged = rowOf(main, 'b')
    const changing = rowOf(main, 'a')
    const edit = unchanged.querySelector<HTMLButtonElement>('#edit-b')!
    edit.focus()

    // When the next poll answers (the poster of "b" signed anew, "a" now completed)
    await vi.advanceTimersByTimeAsync(2500)

    // Then "b" is the very same node, still focused; "a" was redrawn with its new status
    expect(rowOf(main, 'b')).toBe(unchanged)
    expect(document.activeElement).toBe(edit)
    expect(rowOf(main, 'a')).not.toBe(changing)
    expect(rowOf(main, 'a').dataset.status).toBe('COMPLETED')
    expect([...main.querySelectorAll<HTMLElement>('.library-row')].map((r) => r.dataset.videoId)).toEqual([
      'a',
      'b',
    ])
    if (typeof stop === 'function') stop()
  })
})

describe('keyedList', () => {
  type Item = { id: string; label: string }
  const make = (list: HTMLElement) =>
    keyedList<Item>(list, {
      key: (item) => item.id,
      version: (item) => item.label,
      render: (item) => {
        const li = document.createElement('li')
        const button = li.appendChild(document.createElement('button'))
        button.id = `button-${item.id}`
        button.textContent = item.label
        return li
      },
    })

  afterEach(() => document.body.replaceChildren())

  it('moves rows to a new order without rebuilding them, and drops the ones gone', () => {
    const list = document.body.appendChild(document.createElement('ul'))
    const update = make(list)
    update([
      { id: '1', label: 'one' },
      { id: '2', label: 'two' },
      { id: '3', label: 'three' },
    ])
    const [one, two] = [...list.children]

    update([
      { id: '0', label: 'new' },
      { id: '2', label: 'two' },
      { id: '1', label: 'one' },
    ])

    expect([...list.children].map((li) => li.textContent)).toEqual(['new', 'two', 'one'])
    expect(list.children[1]).toBe(two)
    expect(list.children[2]).toBe(one)
  })

  it('returns focus to the same control when its row had to be redrawn', () => {
    const list = document.body.appendChild(document.createElement('ul'))
    const update = make(list)
    update([{ id: '1', label: 'one' }])
    list.querySelector<HTMLButtonElement>('#button-1')!.focus()

    update([{ id: '1', label: 'one, renamed' }])

    expect(document.activeElement?.id).toBe('button-1')
    expect(document.activeElement?.textContent).toBe('one, renamed')
  })

  it('shows the empty state when there is nothing, and removes it when items come', () => {
    const list = document.body.appendChild(document.createElement('ul'))
    const update = make(list)
    const empty = document.createElement('li')
    empty.textContent = 'No videos yet'

    update([], empty)
    expect(list.textContent).toBe('No videos yet')
    update([{ id: '1', label: 'one' }], empty)
    expect(list.textContent).toBe('one')
  })
})
