import './styles.css'

import { Api } from './api'
import { Auth } from './auth/auth'
import { ConfigError, loadConfig } from './config'
import type { AppContext, Page } from './context'
import { clear, h, toast } from './dom'
import { catalogPage } from './pages/catalog'
import { libraryPage } from './pages/library'
import { signInPage } from './pages/signin'
import { parseRoute, type Route } from './router'

const PAGES: Record<Route['name'], Page> = {
  catalog: catalogPage,
  signin: signInPage,
  // Uppy and hls.js are most of the weight: loaded with the pages that use them.
  upload: async (...args) => (await import('./pages/upload')).uploadPage(...args),
  library: libraryPage,
  watch: async (...args) => (await import('./pages/watch')).watchPage(...args),
  notfound: (_ctx, main) => {
    main.append(h('h1', {}, 'Page not found'), h('p', {}, h('a', { href: '#/' }, 'Back to the catalog')))
  },
}
const NEEDS_SIGN_IN = new Set<Route['name']>(['upload', 'library'])
const TITLES: Record<Route['name'], string> = {
  catalog: 'Discover',
  signin: 'Sign in',
  upload: 'Upload',
  library: 'Your videos',
  watch: 'Watch',
  notfound: 'Not found',
}

function renderHeader(ctx: AppContext, route: Route): void {
  const header = document.getElementById('site-header')
  if (!header) return
  const link = (href: string, label: string, active: boolean) =>
    h('a', { href, class: 'nav-link', 'aria-current': active ? 'page' : null }, label)
  const user = ctx.auth.user
  clear(header)
  header.append(
    h(
      'div',
      { class: 'header-inner' },
      h(
        'a',
        { href: '#/', class: 'brand', 'aria-label': 'StreamForge home' },
        h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '▶'),
        'StreamForge',
      ),
      h(
        'nav',
        { 'aria-label': 'Main' },
        link('#/', 'Discover', route.name === 'catalog'),
        link('#/library', 'Library', route.name === 'library'),
        link('#/upload', 'Upload', route.name === 'upload'),
      ),
      h(
        'div',
        { class: 'account' },
        user
          ? [
              h(
                'span',
                { class: 'user', title: 'Signed in' },
                h('span', { class: 'visually-hidden' }, 'Signed in as '),
                user,
              ),
              h(
                'button',
                {
                  type: 'button',
                  class: 'btn btn-quiet',
                  onclick: () => {
                    ctx.auth.signOut()
                    ctx.navigate('#/')
                  },
                },
                'Sign out',
              ),
            ]
          : route.name === 'signin'
            ? null
            : h(
                'a',
                { href: `#/signin?next=${encodeURIComponent(route.path)}`, class: 'btn btn-primary' },
                'Sign in',
              ),
      ),
    ),
  )
}

async function start(): Promise<void> {
  const main = document.getElementById('main') as HTMLElement
  // The skip link must not become a route.
  document.querySelector('.skip-link')?.addEventListener('click', (event) => {
    event.preventDefault()
    main.focus()
  })
  let config
  try {
    config = await loadConfig()
  } catch (error) {
    main.append(
      h('h1', {}, 'StreamForge cannot start'),
      h(
        'p',
        { class: 'error-text', role: 'alert' },
        error instanceof ConfigError ? error.message : String(error),
      ),
    )
    return
  }
  const auth = new Auth(config)
  let current: Route = parseRoute(location.hash)
  const ctx: AppContext = {
    config,
    auth,
    api: new Api({
      baseUrl: config.apiUrl,
      token: () => auth.token(),
      onUnauthorized: () => {
        auth.expire()
        if (NEEDS_SIGN_IN.has(current.name)) ctx.navigate(`#/signin?next=${encodeURIComponent(current.path)}`)
      },
    }),
    navigate(hash: string) {
      if (location.hash === hash) void show()
      else location.hash = hash
    },
  }

  if (config.auth.kind === 'cognito') {
    try {
      const next = await auth.completeCognitoSignIn()
      if (next) location.hash = next
    } catch (error) {
      toast(error instanceof Error ? error.message : String(error), 'error')
    }
  }

  let stop: (() => void) | void
  let generation = 0
  async function show(): Promise<void> {
    const mine = ++generation
    stop?.()
    stop = undefined
    current = parseRoute(location.hash)
    if (NEEDS_SIGN_IN.has(current.name) && !(await auth.token())) {
      location.replace(`#/signin?next=${encodeURIComponent(current.path)}`)
      return
    }
    renderHeader(ctx, current)
    document.title = `${TITLES[current.name]} · StreamForge`
    clear(main)
    main.dataset.page = current.name
    try {
      const cleanup = await PAGES[current.name](ctx, main, current)
      if (mine === generation) stop = cleanup
      else cleanup?.()
    } catch (error) {
      if (mine !== generation) return
      main.append(
        h(
          'p',
          { class: 'error-text', role: 'alert' },
          error instanceof Error ? error.message : String(error),
        ),
      )
    }
  }
  auth.onChange(() => renderHeader(ctx, current))
  window.addEventListener('hashchange', () => void show())
  await show()
}

void start()
