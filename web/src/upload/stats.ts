/** Upload speed and time left, from progress events (pure; tested). */

export interface Progress {
  bytesUploaded: number
  bytesTotal: number
  percent: number
  bytesPerSecond: number | null // null until there is something to measure
  secondsLeft: number | null
}

const SMOOTHING = 0.3 // weight of the newest sample: steady, yet follows a change in a few s
const MIN_INTERVAL_MS = 250

export class SpeedMeter {
  private lastTime: number | null = null
  private lastBytes = 0
  private speed: number | null = null

  /** A new progress report; `now` in ms. A drop in bytes (a retried part) resets the base. */
  update(bytesUploaded: number, bytesTotal: number, now: number): Progress {
    if (this.lastTime === null || bytesUploaded < this.lastBytes) {
      this.lastTime = now
      this.lastBytes = bytesUploaded
    } else if (now - this.lastTime >= MIN_INTERVAL_MS) {
      const sample = ((bytesUploaded - this.lastBytes) * 1000) / (now - this.lastTime)
      this.speed = this.speed === null ? sample : SMOOTHING * sample + (1 - SMOOTHING) * this.speed
      this.lastTime = now
      this.lastBytes = bytesUploaded
    }
    return this.snapshot(bytesUploaded, bytesTotal)
  }

  /** Paused or offline: no speed to speak of, and the next sample starts afresh. */
  reset(): void {
    this.lastTime = null
    this.speed = null
  }

  snapshot(bytesUploaded: number, bytesTotal: number): Progress {
    const percent = bytesTotal > 0 ? Math.min(100, (bytesUploaded / bytesTotal) * 100) : 0
    const speed = this.speed
    const left = bytesTotal - bytesUploaded
    return {
      bytesUploaded,
      bytesTotal,
      percent,
      bytesPerSecond: speed,
      secondsLeft: speed && speed > 0 ? left / speed : left <= 0 ? 0 : null,
    }
  }
}
