import { describe, expect, it } from 'vitest'

import { catalogCard } from '../src/pages/catalog'
import { h } from '../src/dom'
import { initialOf } from '../src/components'

const HOSTILE = '<img src=x onerror=alert(1)>'

describe('user text stays text', () => {
  it('h() puts strings in as text nodes, never markup', () => {
    const element = h('p', { title: HOSTILE }, HOSTILE, ' and ', '<b>bold</b>')
    expect(element.textContent).toBe(`${HOSTILE} and <b>bold</b>`)
    expect(element.querySelector('img, b')).toBeNull()
    expect(element.getAttribute('title')).toBe(HOSTILE)
  })

  it('a catalog card with a hostile title and tags makes no elements of them', () => {
    const card = catalogCard({
      id: 'v"1',
      title: HOSTILE,
      slug: 'x',
      description: '',
      tags: ['<script>alert(1)</script>'],
      durationSeconds: 75,
      width: 1280,
      height: 720,
      posterUrl: null,
      createdAt: '2026-01-01T00:00:00Z',
      processedAt: null,
    })
    expect(card.querySelector('.video-title')!.textContent).toBe(HOSTILE)
    expect(card.querySelector('.tag')!.textContent).toBe('<script>alert(1)</script>')
    expect(card.querySelectorAll('img, script')).toHaveLength(0)
    expect(card.querySelector('a')!.getAttribute('href')).toBe('#/watch/v%221')
    expect(card.querySelector('.duration')!.textContent).toContain('1:15')
  })

  it('a poster placeholder shows the first letter or digit', () => {
    expect(initialOf(HOSTILE)).toBe('I')
    expect(initialOf('  émile')).toBe('É')
    expect(initialOf('<>')).toBe('▶')
  })
})
