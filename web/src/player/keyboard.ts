/** The player's keyboard controls, as a pure map from a key to an action (tested). */

export type PlayerAction =
  | { type: 'toggle' }
  | { type: 'seekBy'; seconds: number }
  | { type: 'seekTo'; fraction: number }
  | { type: 'volumeBy'; delta: number }
  | { type: 'mute' }
  | { type: 'fullscreen' }

export const KEY_HELP: [string, string][] = [
  ['Space or K', 'play / pause'],
  ['← / →', 'back / forward 5 s'],
  ['J / L', 'back / forward 10 s'],
  ['↑ / ↓', 'volume'],
  ['M', 'mute'],
  ['F', 'full screen'],
  ['0–9, Home, End', 'jump to 0–90 %, start, end'],
]

export function actionForKey(
  event: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey'>,
): PlayerAction | null {
  if (event.ctrlKey || event.metaKey || event.altKey) return null
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key
  switch (key) {
    case ' ':
    case 'k':
      return { type: 'toggle' }
    case 'ArrowLeft':
      return { type: 'seekBy', seconds: -5 }
    case 'ArrowRight':
      return { type: 'seekBy', seconds: 5 }
    case 'j':
      return { type: 'seekBy', seconds: -10 }
    case 'l':
      return { type: 'seekBy', seconds: 10 }
    case 'ArrowUp':
      return { type: 'volumeBy', delta: 0.1 }
    case 'ArrowDown':
      return { type: 'volumeBy', delta: -0.1 }
    case 'm':
      return { type: 'mute' }
    case 'f':
      return { type: 'fullscreen' }
    case 'Home':
      return { type: 'seekTo', fraction: 0 }
    case 'End':
      return { type: 'seekTo', fraction: 1 }
    default:
      if (/^[0-9]$/.test(key)) return { type: 'seekTo', fraction: Number(key) / 10 }
      return null
  }
}
