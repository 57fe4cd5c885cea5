import type { Page } from '../context'
import { h } from '../dom'

/** Offline: pick a user name (the local issuer trusts it). On AWS: the Cognito Hosted UI. */
export const signInPage: Page = (ctx, main, route) => {
  const next = safeNext(route.query.get('next'))
  if (ctx.auth.user) {
    ctx.navigate(next)
    return
  }
  const card = h('section', { class: 'card narrow', 'aria-labelledby': 'signin-title' })
  main.append(card)
  card.append(h('h1', { id: 'signin-title' }, 'Sign in to StreamForge'))

  if (ctx.config.auth.kind === 'cognito') {
    card.append(
      h('p', {}, 'You will continue on the StreamForge sign-in page, then come straight back.'),
      h(
        'button',
        {
          type: 'button',
          class: 'btn btn-primary btn-block',
          onclick: () => void ctx.auth.startCognitoSignIn(next),
        },
        'Continue to sign in',
      ),
    )
    return
  }

  const error = h('p', { class: 'error-text', id: 'signin-error', role: 'alert', hidden: true })
  const input = h('input', {
    id: 'signin-username',
    name: 'username',
    autocomplete: 'username',
    required: true,
    maxlength: 64,
    pattern: '[A-Za-z0-9._@\\-]+',
    'aria-describedby': 'signin-help signin-error',
  })
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Sign in')
  const form = h(
    'form',
    { class: 'stack', novalidate: true },
    h('p', { class: 'badge badge-neutral' }, 'Offline development sign-in'),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'signin-username' }, 'User name'),
      input,
      h(
        'p',
        { class: 'help', id: 'signin-help' },
        'Letters, digits and . _ @ -. Each name is its own account on this local stack; no password.',
      ),
    ),
    error,
    submit,
  )
  const signIn = async (event: SubmitEvent) => {
    event.preventDefault()
    error.hidden = true
    const username = input.value.trim()
    if (!username || !input.checkValidity()) {
      error.textContent = 'Enter a user name of letters, digits and . _ @ -'
      error.hidden = false
      input.setAttribute('aria-invalid', 'true')
      input.focus()
      return
    }
    submit.disabled = true
    try {
      await ctx.auth.signInLocal(username)
      ctx.navigate(next)
    } catch (failure) {
      error.textContent = failure instanceof Error ? failure.message : String(failure)
      error.hidden = false
    } finally {
      submit.disabled = false
    }
  }
  form.addEventListener('submit', (event) => void signIn(event))
  card.append(form)
  input.focus()
}

/** Only a route of this app: never send the user somewhere else after signing in. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/signin'))
    return '#/library'
  return `#${next}`
}
