import { describe, expect, it } from 'vitest'

import { actionForKey } from '../src/player/keyboard'
import { qualityMenu } from '../src/player/quality'
import { freshUrl, signedQueryOf, withSignature } from '../src/player/signing'

const LEVELS = [
  { height: 360, width: 640, bitrate: 800_000 },
  { height: 720, width: 1280, bitrate: 3_000_000 },
  { height: 480, width: 854, bitrate: 1_400_000 },
]

describe('quality menu', () => {
  it('offers Auto, then every rung tallest first, by hls.js level index', () => {
    const menu = qualityMenu(LEVELS, true, 2)
    expect(menu.options).toEqual([
      { value: -1, label: 'Auto (480p)' },
      { value: 1, label: '720p' },
      { value: 2, label: '480p' },
      { value: 0, label: '360p' },
    ])
    expect(menu.selected).toBe(-1)
  })

  it('marks a chosen rung', () => {
    const menu = qualityMenu(LEVELS, false, 0)
    expect(menu.selected).toBe(0)
    expect(menu.options[0].label).toBe('Auto')
  })

  it('tells rungs of one height apart by bitrate', () => {
    const menu = qualityMenu(
      [
        { height: 720, width: 1280, bitrate: 3e6 },
        { height: 720, width: 1280, bitrate: 1.5e6 },
      ],
      true,
      -1,
    )
    expect(menu.options.map((o) => o.label)).toEqual(['Auto', '720p (3000 kbps)', '720p (1500 kbps)'])
  })
})

describe('signed media URLs', () => {
  const Q = 'Policy=p&Signature=s&Key-Pair-Id=k'
  const CDN = 'https://cdn.example.com'

  it('adds the signed query to every URL on the CDN', () => {
    expect(withSignature(`${CDN}/v1/hls/720p/seg_1.m4s`, Q, CDN)).toBe(`${CDN}/v1/hls/720p/seg_1.m4s?${Q}`)
    expect(withSignature(`${CDN}/v1/hls/720p/index.m3u8?x=1`, Q, CDN)).toBe(
      `${CDN}/v1/hls/720p/index.m3u8?x=1&${Q}`,
    )
    expect(withSignature(`${CDN}/v1/thumbs/storyboard.jpg#xywh=0,0,1,1`, Q, CDN)).toBe(
      `${CDN}/v1/thumbs/storyboard.jpg?${Q}#xywh=0,0,1,1`,
    )
  })

  it('makes the master URL fresh without touching its signature', () => {
    const signed = `${CDN}/v1/hls/master.m3u8?Policy=a~b-c_&Signature=s~&Key-Pair-Id=k`
    expect(freshUrl(signed, 42)).toBe(`${signed}&v=42`)
    expect(freshUrl(`${CDN}/v1/hls/master.m3u8`, 7)).toBe(`${CDN}/v1/hls/master.m3u8?v=7`)
  })

  it('never signs twice, nor a URL on another host', () => {
    const signed = `${CDN}/v1/hls/master.m3u8?${Q}`
    expect(withSignature(signed, Q, CDN)).toBe(signed)
    expect(withSignature('https://elsewhere.example.com/x.m4s', Q, CDN)).toBe(
      'https://elsewhere.example.com/x.m4s',
    )
  })
})

describe('keyboard controls', () => {
  const key = (k: string, extra: Partial<KeyboardEvent> = {}) =>
    actionForKey({ key: k, ctrlKey: false, metaKey: false, altKey: false, ...extra })

  it('maps the usual player keys', () => {
    expect(key(' ')).toEqual({ type: 'toggle' })
    expect(key('K')).toEqual({ type: 'toggle' })
    expect(key('ArrowRight')).toEqual({ type: 'seekBy', seconds: 5 })
    expect(key('j')).toEqual({ type: 'seekBy', seconds: -10 })
    expect(key('ArrowUp')).toEqual({ type: 'volumeBy', delta: 0.1 })
    expect(key('m')).toEqual({ type: 'mute' })
    expect(key('f')).toEqual({ type: 'fullscreen' })
    expect(key('7')).toEqual({ type: 'seekTo', fraction: 0.7 })
    expect(key('End')).toEqual({ type: 'seekTo', fraction: 1 })
  })

  it('leaves browser shortcuts and other keys alone', () => {
    expect(key('f', { ctrlKey: true })).toBeNull()
    expect(key('x')).toBeNull()
    expect(key('Tab')).toBeNull()
  })
})

describe('the signing part of a signed URL', () => {
  it('is the Policy, Signature and Key-Pair-Id of its query, in that order', () => {
    const url = 'https://cdn.example.com/v/thumbs/storyboard.vtt?Signature=s~1&x=2&Policy=p-_&Key-Pair-Id=k'
    expect(signedQueryOf(url)).toBe('Policy=p-_&Signature=s~1&Key-Pair-Id=k')
  })

  it('is empty for a URL without a complete signature', () => {
    expect(signedQueryOf('https://cdn.example.com/v/thumbs/a.vtt?Policy=p')).toBe('')
    expect(signedQueryOf('not a url')).toBe('')
  })
})

describe('DASH segment signing', () => {
  const origin = 'https://cdn.example'
  const hlsQuery = 'Policy=p&Signature=s&Key-Pair-Id=K'

  it('adds the hls/ query to a segment the MPD points at, and keeps the MPD its own', () => {
    // The MPD's BaseURL ../hls/720p/ resolves without the MPD's query
    expect(withSignature(`${origin}/v/hls/720p/seg_00001.m4s`, hlsQuery, origin)).toBe(
      `${origin}/v/hls/720p/seg_00001.m4s?${hlsQuery}`,
    )
    const mpd = `${origin}/v/dash/manifest.mpd?Policy=d&Signature=e&Key-Pair-Id=K`
    expect(withSignature(mpd, hlsQuery, origin)).toBe(mpd)
  })
})
