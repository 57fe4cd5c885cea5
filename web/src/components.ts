/** Pieces the pages share. All text goes in as text (see dom.ts). */

import type { Visibility } from './api'
import { h } from './dom'
import { formatClock } from './format'
import { STAGES, type StatusView } from './status'

export function poster(url: string | null, title: string, durationSeconds: number | null): HTMLElement {
  const frame = h('div', { class: 'poster' })
  const placeholder = () =>
    h('span', { class: 'poster-placeholder', 'aria-hidden': 'true' }, initialOf(title))
  if (url) {
    const img = h('img', { src: url, alt: '', loading: 'lazy', decoding: 'async' })
    img.addEventListener('error', () => img.replaceWith(placeholder()))
    frame.append(img)
  } else {
    frame.append(placeholder())
  }
  if (durationSeconds) {
    frame.append(
      h(
        'span',
        { class: 'duration' },
        h('span', { class: 'visually-hidden' }, 'Duration '),
        formatClock(durationSeconds),
      ),
    )
  }
  return frame
}

/** The first letter or digit of a title, for a poster that is not there (yet). */
export function initialOf(title: string): string {
  const match = /[\p{L}\p{N}]/u.exec(title)
  return match ? match[0].toUpperCase() : '▶'
}

export function statusBadge(view: StatusView): HTMLElement {
  return h('span', { class: `badge badge-${view.tone}`, 'data-status-label': view.label }, view.label)
}

export function visibilityBadge(visibility: Visibility): HTMLElement {
  return h(
    'span',
    { class: `badge badge-${visibility === 'public' ? 'public' : 'neutral'}` },
    visibility === 'public' ? 'Public' : 'Private',
  )
}

const STEP_WORDS = { done: 'done', failed: 'failed', current: 'in progress', todo: 'to do' } as const

/** Upload → Analyse → Transcode → Finalise → Ready, with the current step marked. */
export function stepper(view: StatusView): HTMLElement {
  const list = h('ol', { class: 'stepper', 'aria-label': 'Processing progress' })
  STAGES.forEach((name, index) => {
    const state =
      index < view.stage || view.tone === 'ok'
        ? 'done'
        : index === view.stage
          ? view.tone === 'error'
            ? 'failed'
            : 'current'
          : 'todo'
    list.append(
      h(
        'li',
        { class: `step step-${state}`, 'aria-current': state === 'current' ? 'step' : null },
        h('span', { class: 'visually-hidden' }, `${STEP_WORDS[state]}: `),
        name,
      ),
    )
  })
  return list
}

export function tagList(tags: string[]): HTMLElement | null {
  if (!tags.length) return null
  return h(
    'ul',
    { class: 'tags', 'aria-label': 'Tags' },
    tags.map((tag) => h('li', { class: 'tag' }, tag)),
  )
}

export function emptyState(title: string, text: string, action?: HTMLElement): HTMLElement {
  return h('div', { class: 'empty' }, h('h2', {}, title), h('p', {}, text), action ?? null)
}

export function spinner(label: string): HTMLElement {
  return h(
    'p',
    { class: 'loading', role: 'status' },
    h('span', { class: 'spinner', 'aria-hidden': 'true' }),
    label,
  )
}

/** A modal <dialog>: focus moves in, Escape closes, focus goes back to where it was. */
export function openDialog(
  title: string,
  body: HTMLElement,
  actions: HTMLElement[],
): { dialog: HTMLDialogElement; close: () => void } {
  const returnTo = document.activeElement as HTMLElement | null
  const titleId = `dialog-title-${Math.random().toString(36).slice(2)}`
  const dialog = h(
    'dialog',
    { class: 'dialog', 'aria-labelledby': titleId },
    h('h2', { id: titleId }, title),
    body,
    h('div', { class: 'dialog-actions' }, actions),
  )
  document.body.append(dialog)
  const close = () => {
    dialog.close()
  }
  dialog.addEventListener('close', () => {
    dialog.remove()
    returnTo?.focus()
  })
  dialog.showModal()
  return { dialog, close }
}

export function confirmDialog(title: string, text: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    let answer = false
    const cancel = h('button', { type: 'button', class: 'btn btn-quiet' }, 'Cancel')
    const confirm = h('button', { type: 'button', class: 'btn btn-danger' }, confirmLabel)
    const { dialog, close } = openDialog(title, h('p', {}, text), [cancel, confirm])
    cancel.addEventListener('click', close)
    confirm.addEventListener('click', () => {
      answer = true
      close()
    })
    dialog.addEventListener('close', () => resolve(answer))
    cancel.focus()
  })
}

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text)
    return true
  } catch {
    return false
  }
}

/** A read-only share link with a Copy button. */
export function shareBox(url: string, id: string): HTMLElement {
  const input = h('input', { id, type: 'url', readonly: true, value: url, class: 'share-input' })
  input.addEventListener('focus', () => input.select())
  const status = h('span', { class: 'share-status', role: 'status' })
  const button = h('button', { type: 'button', class: 'btn' }, 'Copy link')
  button.addEventListener('click', () => {
    input.select()
    void copyText(url).then((copied) => {
      status.textContent = copied ? 'Copied' : 'Select the link and copy it'
    })
  })
  return h(
    'div',
    { class: 'share' },
    h('label', { for: id }, 'Share link'),
    h('div', { class: 'share-row' }, input, button, status),
  )
}
