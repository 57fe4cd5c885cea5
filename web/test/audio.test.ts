import { describe, expect, it } from 'vitest'

import { audioTrackMenu } from '../src/player/audio'

describe('audio-track menu', () => {
  it('is not offered for a single track', () => {
    expect(audioTrackMenu([], -1)).toBeNull()
    expect(audioTrackMenu([{ name: 'English', lang: 'eng', default: true }], 0)).toBeNull()
  })

  it('lists every track by its name, in hls.js order, selecting the current one', () => {
    const menu = audioTrackMenu(
      [
        { name: 'English', lang: 'eng', default: true },
        { name: 'French', lang: 'fra' },
        { name: 'French Commentary', lang: 'fra' },
      ],
      1,
    )
    expect(menu).toEqual({
      options: [
        { value: 0, label: 'English' },
        { value: 1, label: 'French' },
        { value: 2, label: 'French Commentary' },
      ],
      selected: 1,
    })
  })

  it('selects the default track until hls.js has chosen one', () => {
    const menu = audioTrackMenu([{ name: 'English' }, { name: 'German', default: true }], -1)
    expect(menu?.selected).toBe(1)
    expect(audioTrackMenu([{ name: 'A' }, { name: 'B' }], -1)?.selected).toBe(0)
    expect(audioTrackMenu([{ name: 'A' }, { name: 'B' }], 7)?.selected).toBe(0)
  })

  it('tells repeated names apart by language and says which track describes the video', () => {
    const menu = audioTrackMenu(
      [
        { name: 'Main', lang: 'eng' },
        { name: 'Main', lang: 'deu' },
        { name: 'English', lang: 'eng', characteristics: 'public.accessibility.describes-video' },
        { name: '', lang: 'und' },
      ],
      0,
    )
    expect(menu?.options.map((o) => o.label)).toEqual([
      'Main [eng]',
      'Main [deu]',
      'English (audio description)',
      'Track 4',
    ])
  })
})
