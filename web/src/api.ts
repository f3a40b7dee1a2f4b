// A client of the public HTTP API, with the signed-in user's token in the
// Authorization header of every call.
import { Session } from "./session";

export class APIError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
  ) {
    super(message);
  }
}

let current: Session | null = null;
let onUnauthorized: () => void = () => {};

export function useSession(s: Session | null, unauthorized: () => void): void {
  current = s;
  onUnauthorized = unauthorized;
}

function headers(token?: string): Record<string, string> {
  const h: Record<string, string> = { Accept: "application/json" };
  const t = token ?? current?.token;
  if (t) h.Authorization = "Bearer " + t;
  return h;
}

async function fail(r: Response): Promise<never> {
  let code = "", message = `${r.status} ${r.statusText}`;
  try {
    const body = await r.json();
    code = body.error?.code ?? "";
    message = body.error?.message ?? message;
  } catch {
    /* not the API's error format */
  }
  if (r.status === 401) onUnauthorized();
  throw new APIError(r.status, code, message);
}

export async function call<T>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const h = headers(token);
  if (body !== undefined) h["Content-Type"] = "application/json";
  const r = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!r.ok) return fail(r);
  if (r.status === 204) return undefined as T;
  return (await r.json()) as T;
}

export const get = <T>(path: string) => call<T>("GET", path);
export const post = <T>(path: string, body: unknown = {}) => call<T>("POST", path, body);

// download fetches a text answer (with the token) and saves it as a file.
export async function download(path: string, filename: string): Promise<void> {
  const r = await fetch(path, { headers: headers() });
  if (!r.ok) return fail(r);
  const url = URL.createObjectURL(await r.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export interface StreamEvent {
  type: string;
  id: string;
  data: unknown;
}

// stream follows a server-sent events answer with fetch (EventSource cannot
// send the Authorization header, and a token never goes in a URL). It
// reconnects after a drop, waiting longer each time, until signal aborts.
export async function stream(path: string, signal: AbortSignal, onEvent: (e: StreamEvent) => void,
  onState: (connected: boolean, error?: string) => void): Promise<void> {
  let delay = 1000;
  while (!signal.aborted) {
    try {
      const r = await fetch(path, { headers: { ...headers(), Accept: "text/event-stream" }, signal });
      if (!r.ok) await fail(r);
      onState(true);
      delay = 1000;
      await readEvents(r.body!, onEvent);
      onState(false, "the server closed the stream; reconnecting");
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof APIError && (e.status === 401 || e.status === 403 || e.status === 404)) {
        onState(false, e.message);
        return;
      }
      onState(false, (e as Error).message + "; reconnecting");
    }
    await new Promise((res) => setTimeout(res, delay));
    delay = Math.min(delay * 2, 30000);
  }
}

async function readEvents(body: ReadableStream<Uint8Array>, onEvent: (e: StreamEvent) => void): Promise<void> {
  const reader = body.getReader();
  const text = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += text.decode(value, { stream: true });
    let end: number;
    while ((end = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      const ev = parseEvent(block);
      if (ev) onEvent(ev);
    }
  }
}

function parseEvent(block: string): StreamEvent | null {
  let type = "message", id = "", data = "";
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue;
    const i = line.indexOf(":");
    const field = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
    if (field === "event") type = value;
    else if (field === "id") id = value;
    else if (field === "data") data += value;
  }
  if (!data) return null;
  return { type, id, data: JSON.parse(data) };
}
