/** The quality menu: "Auto" plus one entry per rung, tallest first (pure; tested). */

export interface LevelInfo {
  height: number
  width: number
  bitrate: number
}

export interface QualityOption {
  value: number // hls.js level index; -1 = automatic
  label: string
}

export interface QualityMenu {
  options: QualityOption[]
  selected: number
}

function rungLabel(level: LevelInfo, duplicates: boolean): string {
  const name = level.height ? `${level.height}p` : `${Math.round(level.bitrate / 1000)} kbps`
  return duplicates && level.height ? `${name} (${Math.round(level.bitrate / 1000)} kbps)` : name
}

/**
 * `autoEnabled` and `currentLevel` as hls.js reports them; while automatic, the label of
 * "Auto" names the rung that plays now.
 */
export function qualityMenu(levels: LevelInfo[], autoEnabled: boolean, currentLevel: number): QualityMenu {
  const order = levels
    .map((level, index) => ({ level, index }))
    .sort((a, b) => b.level.height - a.level.height || b.level.bitrate - a.level.bitrate)
  const heights = levels.map((l) => l.height)
  const playing = levels[currentLevel]
  const auto = autoEnabled && playing ? `Auto (${rungLabel(playing, false)})` : 'Auto'
  return {
    options: [
      { value: -1, label: auto },
      ...order.map(({ level, index }) => ({
        value: index,
        label: rungLabel(level, heights.filter((h) => h === level.height).length > 1),
      })),
    ],
    selected: autoEnabled ? -1 : currentLevel,
  }
}
