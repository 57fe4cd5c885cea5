/**
 * Building DOM without HTML strings: every piece of text goes through `textContent` or an
 * attribute, so user data (titles, descriptions, tags, error messages) is never parsed as
 * markup. Nothing in this app assigns `innerHTML`.
 */

type Child = Node | string | number | null | undefined | false
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2).toLowerCase(), value)
    } else if (name === 'class') {
      element.className = String(value)
    } else if (value === true) {
      element.setAttribute(name, '')
    } else {
      element.setAttribute(name, String(value))
    }
  }
  append(element, ...children)
  return element
}

export function append(parent: Node, ...children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)))
  }
}

export function clear(element: Element): void {
  element.replaceChildren()
}

let toastSeq = 0

/** A short message in the polite live region (screen readers announce it). */
export function toast(message: string, kind: 'info' | 'error' | 'success' = 'info'): void {
  const region = document.getElementById('toasts')
  if (!region) return
  const id = `toast-${++toastSeq}`
  const item = h(
    'div',
    { class: `toast toast-${kind}`, id, role: kind === 'error' ? 'alert' : null },
    message,
  )
  region.appendChild(item)
  window.setTimeout(() => item.remove(), kind === 'error' ? 8000 : 4000)
}
