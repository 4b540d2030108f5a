/** Options of `startWrapup()`; every one is optional. */
export interface WrapupOptions {
  /** Seed the demo organisation (default true); otherwise an admin client is made for you. */
  demo?: boolean;
  /** "manual" (default): a test clock moved by `advance()`; "system": the real time. */
  clock?: "manual" | "system";
  /** Milliseconds between a close and the interaction being finalized (default 1500). */
  settleMs?: number;
  /** Fault injection, e.g. "503=5%,429=5%" (docs/chaos.md). */
  chaos?: string;
  /** Per-client rate limit, e.g. "300/min". */
  rateLimit?: string;
  /** Let webhooks go to private and loopback addresses (a receiver in the test). */
  webhooksAllowPrivate?: boolean;
  /** Delays between webhook delivery attempts, e.g. "1s,5s". */
  webhooksRetrySchedule?: string;
  /** Any other `wrapup serve` options. */
  extraArgs?: string[];
  /** Environment of the server (added to this process's). */
  env?: Record<string, string>;
  /** The `wrapup` binary (default: $WRAPUP_BIN, else this platform's package's). */
  binary?: string;
  /** How long to wait for the server to listen (default 60000). */
  startupTimeoutMs?: number;
  /** The server's log filter, WRAPUP_LOG (default "warn"); the log is in `logPath`. */
  log?: string;
}

/** The server's time. */
export interface ClockReading {
  now: string;
  nowMs: number;
  manual: boolean;
}

export type Channel = "voice" | "callback" | "email" | "chat" | "message";

/** An interaction as the API returns it (the fields tests use most; see docs/api.md). */
export interface Interaction {
  id: string;
  divisionId: string;
  channel: Channel;
  state: "queued" | "active" | "closed" | "completed";
  finalized: boolean;
  version: number;
  [field: string]: unknown;
}

export interface Division {
  id: string;
  name: string;
  [field: string]: unknown;
}

export interface WrapUpCode {
  id: string;
  name: string;
  divisionId: string;
  [field: string]: unknown;
}

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
  name: string;
  [field: string]: unknown;
}

/** A running wrapup server. */
export declare class WrapupServer {
  /** e.g. "http://127.0.0.1:41234" */
  readonly url: string;
  /** The demo client's id, or the admin client made for a server without demo data. */
  readonly clientId: string;
  readonly clientSecret: string;
  readonly pid: number | undefined;
  readonly settleMs: number;
  readonly clock: "manual" | "system";
  readonly databasePath: string;
  readonly logPath: string;
  /** What the server wrote on stderr so far. */
  log(): string;
  /** Stops the server (gracefully; SIGKILL after `timeoutMs`) and removes its files. */
  stop(timeoutMs?: number): Promise<void>;
  /** An access token; the server's own client's is cached. */
  token(clientId?: string, clientSecret?: string): Promise<string>;
  /** One API request; the parsed answer, or a WrapupApiError. */
  request<T = unknown>(method: string, path: string, body?: unknown, token?: string): Promise<T>;
  now(): Promise<ClockReading>;
  /** Moves the test clock forward; resolves with the new time in ms once what fell due is finalized. */
  advance(ms: number): Promise<number>;
  createDivision(name: string): Promise<Division>;
  createCode(divisionId: string, name: string, description?: string): Promise<WrapUpCode>;
  createClient(options?: { name?: string; scopes?: readonly string[]; divisions?: "all" | string[] }): Promise<ClientCredentials>;
  createInteraction(divisionId: string, channel?: Channel): Promise<Interaction>;
  getInteraction(id: string): Promise<Interaction>;
  setState(id: string, state: "active" | "closed"): Promise<Interaction>;
  activate(id: string): Promise<Interaction>;
  close(id: string): Promise<Interaction>;
  /** Passes a closed interaction's settle time by advancing the clock. */
  settle(id: string): Promise<Interaction>;
  /** A new interaction, activated, closed and settled: ready for its wrap-up. */
  readyInteraction(divisionId: string, channel?: Channel): Promise<Interaction>;
  applyWrapup(id: string, codeId: string, options?: { durationMs?: number; notes?: string }): Promise<void>;
  getWrapup(id: string): Promise<Record<string, unknown>>;
}

/** A non-2xx answer of the server. */
export declare class WrapupApiError extends Error {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** The error code, e.g. "interaction.not.closed" (docs/errors.md). */
  readonly code: string | undefined;
  readonly body: unknown;
}

/** Starts a wrapup server on a free port over a temporary database; resolves once it listens. */
export declare function startWrapup(options?: WrapupOptions): Promise<WrapupServer>;

/** The `wrapup` binary this package runs. */
export declare function binaryPath(): string;

export declare const ALL_SCOPES: readonly string[];

export declare const DEMO: {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly viewerClientId: string;
  readonly viewerClientSecret: string;
  readonly sales: string;
  readonly support: string;
  readonly codeSale: string;
  readonly codeCallback: string;
  readonly codeNoSale: string;
  readonly codeLegacy: string;
  readonly codeResolved: string;
  readonly codeEscalated: string;
};
