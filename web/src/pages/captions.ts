/**
 * The owner's caption tracks on the watch page: the list (with Remove), and a small form
 * that uploads a WebVTT or SubRip file for one language. The API checks the file and
 * publishes it; a bad cue comes back as an error naming its line, shown under the form.
 */

import { ApiError, captionFormatOf, type Caption } from '../api'
import type { AppContext } from '../context'
import { h, toast } from '../dom'

export function captionsCard(ctx: AppContext, videoId: string, onChange: () => void): HTMLElement {
  const list = h('ul', { class: 'captions-list', 'aria-label': 'Caption tracks' })
  const error = h('p', { class: 'error-text', role: 'alert', hidden: true })
  const language = h('input', {
    id: 'caption-language',
    name: 'language',
    required: true,
    maxlength: 35,
    placeholder: 'en',
    autocomplete: 'off',
  })
  const label = h('input', { id: 'caption-label', name: 'label', maxlength: 100, placeholder: 'English' })
  const file = h('input', {
    id: 'caption-file',
    name: 'file',
    type: 'file',
    required: true,
    accept: '.vtt,.srt,text/vtt',
  })
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Add captions')
  const field = (id: string, text: string, control: HTMLElement) =>
    h('div', { class: 'field' }, h('label', { for: id }, text), control)
  const form = h(
    'form',
    { class: 'captions-form', 'aria-label': 'Add captions' },
    field('caption-language', 'Language (BCP-47, e.g. en, pt-BR)', language),
    field('caption-label', 'Label (optional)', label),
    field('caption-file', 'WebVTT or SubRip file', file),
    submit,
  )

  const showError = (message: string | null) => {
    error.hidden = message === null
    error.textContent = message ?? ''
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const chosen = file.files?.[0]
    const format = chosen ? captionFormatOf(chosen.name) : null
    if (!chosen || !format) {
      showError('Choose a .vtt or .srt file.')
      return
    }
    submit.disabled = true
    showError(null)
    ctx.api
      .addCaptions(videoId, chosen, language.value.trim(), format, label.value.trim() || undefined)
      .then((caption) => {
        toast(`Captions added: ${caption.label}`, 'success')
        onChange()
      })
      .catch((failure: unknown) => showError(failure instanceof ApiError ? failure.message : String(failure)))
      .finally(() => {
        submit.disabled = false
      })
  })

  const render = (tracks: Caption[]) => {
    list.replaceChildren(
      ...(tracks.length
        ? tracks.map((track) =>
            h(
              'li',
              { 'data-language': track.language },
              h('span', {}, `${track.label} (${track.language}) · ${track.cueCount} cues`),
              h(
                'button',
                {
                  type: 'button',
                  class: 'btn btn-small btn-danger-quiet',
                  'aria-label': `Remove ${track.label} captions`,
                  onclick: () => {
                    ctx.api
                      .deleteCaptions(videoId, track.language)
                      .then(onChange)
                      .catch((failure: unknown) =>
                        showError(failure instanceof ApiError ? failure.message : String(failure)),
                      )
                  },
                },
                'Remove',
              ),
            ),
          )
        : [h('li', {}, 'No captions yet.')]),
    )
  }
  ctx.api
    .listCaptions(videoId)
    .then((page) => render(page.items))
    .catch(() => render([]))

  return h(
    'section',
    { class: 'captions-card card', 'aria-labelledby': 'captions-heading' },
    h('h2', { id: 'captions-heading' }, 'Captions'),
    list,
    form,
    error,
  )
}
