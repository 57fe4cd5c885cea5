import AwsS3 from '@uppy/aws-s3'
import Uppy, { type UppyFile } from '@uppy/core'
import Dashboard from '@uppy/dashboard'
import GoldenRetriever from '@uppy/golden-retriever'
import '@uppy/core/css/style.min.css'
import '@uppy/dashboard/css/style.min.css'

import type { AppContext, Page } from '../context'
import { h } from '../dom'
import { formatBytes, formatSpeed, formatTimeLeft } from '../format'
import { describeUploadError } from '../upload/errors'
import { s3Hooks, titleFromFileName, type UploadMeta } from '../upload/s3hooks'
import { SpeedMeter } from '../upload/stats'

type Body = Record<string, never>
type File = UppyFile<UploadMeta, Body>

export const ACCEPTED = [
  'video/*',
  '.mp4',
  '.m4v',
  '.mov',
  '.mkv',
  '.webm',
  '.avi',
  '.mpg',
  '.mpeg',
  '.ts',
  '.3gp',
]
const FIELD_CLASS = 'uppy-u-reset uppy-c-textInput uppy-Dashboard-FileCard-input'

/** One uploader per signed-in user, kept while the app runs: leaving the page does not stop
 * an upload, and coming back shows it. Golden Retriever keeps it across a reload. */
interface Uploader {
  user: string
  uppy: Uppy<UploadMeta, Body>
  view: HTMLElement
}
let uploader: Uploader | null = null

export const uploadPage: Page = (ctx, main) => {
  const user = ctx.auth.user as string
  if (uploader && uploader.user !== user) {
    uploader.uppy.destroy()
    uploader = null
  }
  uploader ??= createUploader(ctx, user)
  main.append(uploader.view)
  return () => uploader?.view.remove()
}

function createUploader(ctx: AppContext, user: string): Uploader {
  const maxBytes = ctx.config.maxUploadBytes
  const dashboardTarget = h('div', { class: 'dashboard', id: 'upload-dashboard' })
  const list = h('ul', { class: 'upload-list', id: 'upload-list', 'aria-label': 'Uploads' })
  const offline = h(
    'p',
    { class: 'banner banner-warning', role: 'alert', hidden: navigator.onLine },
    'You are offline. Uploads pause and pick up where they stopped when the connection is back.',
  )
  const view = h(
    'div',
    { class: 'upload-page' },
    h(
      'div',
      { class: 'page-head' },
      h(
        'div',
        {},
        h('h1', {}, 'Upload a video'),
        h(
          'p',
          { class: 'lead' },
          'Drop a video or pick one, add a title and who may see it, and upload. Large files go in ' +
            'parts: pause, lose the connection or reload the page, and the upload carries on from ' +
            'where it stopped.',
        ),
      ),
    ),
    offline,
    h(
      'div',
      { class: 'upload-layout' },
      h('section', { class: 'upload-main', 'aria-label': 'Choose files' }, dashboardTarget),
      h(
        'section',
        { class: 'upload-side', 'aria-labelledby': 'uploads-title' },
        h('h2', { id: 'uploads-title' }, 'Uploads'),
        h('p', { class: 'help', id: 'uploads-empty' }, 'Files you add appear here with their progress.'),
        list,
        h(
          'p',
          { class: 'help' },
          `Video files up to ${formatBytes(maxBytes)}: MP4, MOV, MKV, WebM, AVI, MPEG, 3GP.`,
        ),
      ),
    ),
  )

  const uppy = new Uppy<UploadMeta, Body>({
    id: `streamforge-upload-${user}`,
    autoProceed: false,
    restrictions: {
      maxFileSize: maxBytes,
      allowedFileTypes: ACCEPTED,
      requiredMetaFields: ['title'],
    },
    // Defaults before the file is added, so that the details form opens with them.
    onBeforeFileAdded: (file) => {
      if (file.meta.uploadKey) return file // restored after a reload: keep what it had
      return {
        ...file,
        meta: {
          ...file.meta,
          title: titleFromFileName(file.name ?? 'video'),
          description: '',
          tags: '',
          visibility: 'private',
          uploadKey: crypto.randomUUID(),
        },
      }
    },
  })
  uppy.use(Dashboard<UploadMeta, Body>, {
    inline: true,
    target: dashboardTarget,
    width: '100%',
    height: 540,
    theme: 'auto',
    proudlyDisplayPoweredByUppy: false,
    autoOpen: 'metaEditor',
    showRemoveButtonAfterComplete: true,
    note: `Videos up to ${formatBytes(maxBytes)}`,
    metaFields: [
      { id: 'title', name: 'Title', placeholder: 'What is this video called?' },
      {
        id: 'description',
        name: 'Description',
        render: ({ value, onChange, form }, hh) =>
          hh('textarea', {
            id: 'uppy-Dashboard-FileCard-input-description',
            class: FIELD_CLASS,
            form,
            rows: 3,
            maxLength: 5000,
            value: value ?? '',
            placeholder: 'Optional',
            onInput: (event: Event) => onChange((event.target as HTMLTextAreaElement).value),
          }),
      },
      { id: 'tags', name: 'Tags', placeholder: 'Comma-separated, e.g. travel, 2024' },
      {
        id: 'visibility',
        name: 'Visibility',
        render: ({ value, onChange, form }, hh) =>
          hh(
            'select',
            {
              id: 'uppy-Dashboard-FileCard-input-visibility',
              class: FIELD_CLASS,
              form,
              value: value || 'private',
              onChange: (event: Event) => onChange((event.target as HTMLSelectElement).value),
            },
            hh('option', { value: 'private' }, 'Private: only you'),
            hh('option', { value: 'public' }, 'Public: listed in the catalog'),
          ),
      },
    ],
    locale: { strings: { dropPasteFiles: 'Drop a video here or %{browseFiles}', browseFiles: 'browse' } },
  })
  const { planUploads, ...hooks } = s3Hooks(ctx.api, uppy)
  uppy.addPreProcessor(planUploads) // the API's plan decides where Uppy cuts each file
  uppy.use(AwsS3<UploadMeta, Body>, {
    ...hooks,
    retryDelays: [0, 1000, 3000, 5000, 10000],
    limit: 4,
  })
  uppy.use(GoldenRetriever<UploadMeta, Body>, { serviceWorker: false })

  const meters = new Map<string, SpeedMeter>()
  const messages = new Map<string, string>()
  uppy.on('upload-progress', (file) => {
    if (!file) return
    const meter = meters.get(file.id) ?? new SpeedMeter()
    meters.set(file.id, meter)
    meter.update(
      file.progress.bytesUploaded || 0,
      file.progress.bytesTotal ?? file.size ?? 0,
      performance.now(),
    )
    scheduleRender()
  })
  uppy.on('upload-error', (file, error) => {
    if (file) messages.set(file.id, describeUploadError(error, maxBytes))
    scheduleRender()
  })
  uppy.on('upload-retry', (file) => {
    if (file) messages.delete(file.id)
    scheduleRender()
  })
  uppy.on('upload-pause', (file) => {
    if (file) meters.get(file.id)?.reset()
    scheduleRender()
  })
  uppy.on('restriction-failed', (_file, error) => {
    messages.set('__restriction', error.message)
    scheduleRender()
  })
  for (const event of [
    'file-added',
    'file-removed',
    'upload-success',
    'complete',
    'pause-all',
    'resume-all',
    'restored',
    'upload-start',
    'cancel-all',
  ] as const) {
    uppy.on(event, () => {
      messages.delete('__restriction')
      scheduleRender()
    })
  }
  const setOnline = (online: boolean) => {
    offline.hidden = online
    if (!online) for (const meter of meters.values()) meter.reset()
  }
  window.addEventListener('offline', () => setOnline(false))
  window.addEventListener('online', () => setOnline(true))
  uppy.on('is-offline', () => setOnline(false))
  uppy.on('is-online', () => setOnline(true))

  let pending = false
  const scheduleRender = () => {
    if (pending) return
    pending = true
    requestAnimationFrame(() => {
      pending = false
      renderList()
    })
  }
  const renderList = () => {
    const files = uppy.getFiles()
    const focused = (document.activeElement as HTMLElement | null)?.id
    document.getElementById('uploads-empty')?.toggleAttribute('hidden', files.length > 0)
    const restriction = messages.get('__restriction')
    list.replaceChildren(
      ...(restriction
        ? [
            h(
              'li',
              { class: 'upload-item upload-rejected', role: 'alert' },
              h('p', { class: 'error-text' }, restriction),
            ),
          ]
        : []),
      ...files.map((file) => uploadItem(uppy, file, meters.get(file.id), messages.get(file.id))),
    )
    if (focused) document.getElementById(focused)?.focus()
  }
  renderList()
  return { user, uppy, view }
}

const BADGE_TONES = {
  done: 'ok',
  error: 'error',
  restored: 'busy',
  paused: 'neutral',
  uploading: 'busy',
  ready: 'neutral',
} as const

function uploadItem(
  uppy: Uppy<UploadMeta, Body>,
  file: File,
  meter: SpeedMeter | undefined,
  error: string | undefined,
): HTMLElement {
  const total = file.progress.bytesTotal ?? file.size ?? 0
  const done = file.progress.uploadComplete
  const uploaded = done ? total : file.progress.bytesUploaded || 0
  const stats = (meter ?? new SpeedMeter()).snapshot(uploaded, total)
  const started = !!file.progress.uploadStarted
  const failed = !!file.error || !!error
  // A file restored after a reload without its bytes (Golden Retriever keeps small ones only)
  const ghost = !!(file as { isGhost?: boolean }).isGhost
  const state = done
    ? 'done'
    : failed
      ? 'error'
      : ghost
        ? 'restored'
        : file.isPaused
          ? 'paused'
          : started
            ? 'uploading'
            : 'ready'
  const label = {
    done: 'Uploaded: processing',
    error: 'Failed',
    restored: 'Pick the file again',
    paused: 'Paused',
    uploading: 'Uploading',
    ready: 'Ready to upload',
  }[state]
  const safeId = file.id.replace(/[^A-Za-z0-9_-]/g, '_')
  const nameId = `upload-name-${safeId}`
  const details: string[] = [
    `${Math.floor(stats.percent)}%`,
    `${formatBytes(uploaded)} of ${formatBytes(total)}`,
  ]
  if (state === 'uploading') {
    if (stats.bytesPerSecond === null || stats.secondsLeft === null) details.push('estimating time left…')
    else details.push(formatSpeed(stats.bytesPerSecond), `${formatTimeLeft(stats.secondsLeft)} left`)
  }
  const button = (suffix: string, text: string, onclick: () => void) =>
    h(
      'button',
      {
        type: 'button',
        id: `upload-${suffix}-${safeId}`,
        class: 'btn btn-small',
        'aria-describedby': nameId,
        onclick,
      },
      text,
    )
  return h(
    'li',
    { class: `upload-item upload-${state}`, 'data-file-id': file.id, 'data-state': state },
    h(
      'div',
      { class: 'upload-head' },
      h('span', { class: 'upload-name', id: nameId }, file.meta.title || file.name || 'video'),
      h(
        'span',
        {
          class: `badge badge-${BADGE_TONES[state]}`,
        },
        label,
      ),
    ),
    h('progress', {
      max: 100,
      value: stats.percent.toFixed(1),
      'aria-labelledby': nameId,
      class: 'upload-progress',
    }),
    h('p', { class: 'upload-stats', 'aria-live': 'off' }, details.join(' · ')),
    failed
      ? h('p', { class: 'error-text', role: 'alert' }, error || describeUploadError(file.error, 0))
      : null,
    ghost && !failed
      ? h(
          'p',
          { class: 'help' },
          'The page was reloaded: choose the same file again (Re-select) ' +
            'and the upload carries on from where it stopped.',
        )
      : null,
    h(
      'div',
      { class: 'upload-actions' },
      state === 'uploading' || state === 'paused'
        ? button('pause', file.isPaused ? 'Resume' : 'Pause', () => uppy.pauseResume(file.id))
        : null,
      state === 'error' ? button('retry', 'Retry', () => void uppy.retryUpload(file.id)) : null,
      state === 'done'
        ? h('a', { href: '#/library', class: 'btn btn-small btn-primary' }, 'View in library')
        : null,
      button('remove', done ? 'Clear' : 'Remove', () => uppy.removeFile(file.id)),
    ),
  )
}
