/**
 * A list that updates in place. Each item has a key and a version: a row whose version is
 * unchanged stays the very same node (focus, text selection and scroll position inside it
 * survive), a changed item gets a new row in its place, and rows are moved only when the
 * order changes. If focus was in a row that had to be rebuilt or moved, it returns to the
 * element with the same id.
 */

export interface KeyedRows<T> {
  key(item: T): string
  version(item: T): string
  render(item: T): HTMLElement
}

interface Row {
  version: string
  node: HTMLElement
}

export function keyedList<T>(
  list: HTMLElement,
  rows: KeyedRows<T>,
): (items: T[], empty?: HTMLElement) => void {
  const shown = new Map<string, Row>()

  return (items, empty) => {
    const focusedId = list.contains(document.activeElement) ? document.activeElement?.id : undefined
    const wanted = new Set(items.map((item) => rows.key(item)))
    for (const [key, row] of shown) {
      if (wanted.has(key)) continue
      row.node.remove()
      shown.delete(key)
    }
    const keyed = new Set([...shown.values()].map((row) => row.node))
    for (const child of [...list.children]) if (!keyed.has(child as HTMLElement)) child.remove()

    let next = list.firstElementChild
    for (const item of items) {
      const key = rows.key(item)
      const version = rows.version(item)
      let row = shown.get(key)
      if (row && row.version !== version) {
        if (next === row.node) next = row.node.nextElementSibling
        row.node.remove()
        row = undefined
      }
      if (!row) {
        row = { version, node: rows.render(item) }
        shown.set(key, row)
      }
      if (row.node === next) next = next.nextElementSibling
      else list.insertBefore(row.node, next)
    }
    if (!items.length && empty) list.append(empty)

    if (focusedId && document.activeElement?.id !== focusedId) {
      const again = document.getElementById(focusedId)
      if (again && list.contains(again)) again.focus({ preventScroll: true })
    }
  }
}
