import type { Api } from './api'
import type { Auth } from './auth/auth'
import type { AppConfig } from './config'
import type { Route } from './router'

export interface AppContext {
  config: AppConfig
  auth: Auth
  api: Api
  navigate(hash: string): void
}

/** A page draws itself into `main` and returns what stops it (timers, players). */
type Stop = (() => void) | void
export type Page = (ctx: AppContext, main: HTMLElement, route: Route) => Promise<Stop> | Stop
