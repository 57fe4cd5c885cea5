import { describe, expect, it } from 'vitest'

import { cueAt, parseStoryboardVtt, parseVttTime } from '../src/player/storyboard'

// What transcoder/thumbnails.py writes
const VTT = `WEBVTT

00:00:00.000 --> 00:00:01.000
storyboard.jpg#xywh=0,0,160,90

00:00:01.000 --> 00:00:02.000
storyboard.jpg#xywh=160,0,160,90

00:00:02.000 --> 00:00:03.500
storyboard.jpg#xywh=0,90,160,90
`
const URL_ = 'https://cdn.example.com/v1/thumbs/storyboard.vtt?Policy=p&Signature=s&Key-Pair-Id=k'

describe('storyboard', () => {
  it('parses cues, resolving the sprite against the VTT URL without its signature', () => {
    const cues = parseStoryboardVtt(VTT, URL_)
    expect(cues).toHaveLength(3)
    expect(cues[1]).toEqual({
      start: 1,
      end: 2,
      image: 'https://cdn.example.com/v1/thumbs/storyboard.jpg',
      x: 160,
      y: 0,
      w: 160,
      h: 90,
    })
    expect(cues[2].end).toBe(3.5)
  })

  it('reads hour-less times, CRLF line ends and cue identifiers', () => {
    const text = 'WEBVTT\r\n\r\n1\r\n00:05.250 --> 01:00:06.000\r\nsprite.jpg#xywh=1,2,3,4\r\n'
    const [cue] = parseStoryboardVtt(text, 'https://c/x/a.vtt')
    expect(cue).toMatchObject({
      start: 5.25,
      end: 3606,
      image: 'https://c/x/sprite.jpg',
      x: 1,
      y: 2,
      w: 3,
      h: 4,
    })
  })

  it('skips cues without a tile and refuses a file that is not WebVTT', () => {
    expect(parseStoryboardVtt('WEBVTT\n\n00:00.000 --> 00:01.000\nno tile here\n', URL_)).toEqual([])
    expect(() => parseStoryboardVtt('<html>', URL_)).toThrow('not a WebVTT')
  })

  it('finds the tile for a time, first and last included', () => {
    const cues = parseStoryboardVtt(VTT, URL_)
    expect(cueAt(cues, 0)!.x).toBe(0)
    expect(cueAt(cues, 1.5)!.x).toBe(160)
    expect(cueAt(cues, 2.0)!.y).toBe(90)
    expect(cueAt(cues, 99)!.y).toBe(90)
    expect(cueAt([], 1)).toBeNull()
    expect(cueAt(cues, Number.NaN)).toBeNull()
  })

  it('parses times', () => {
    expect(parseVttTime('01:02:03.5')).toBe(3723.5)
    expect(parseVttTime('00:07.125')).toBe(7.125)
  })
})
