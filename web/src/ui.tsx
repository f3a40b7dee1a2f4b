// Small shared pieces of the pages.
import { ComponentChildren } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";

// useLoad runs load once (and again on reload()), keeping its result or error.
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string>("");
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    load().then((d) => live && (setData(d), setError("")), (e) => live && setError(e.message));
    return () => { live = false; };
  }, [...deps, n]);
  return { data, error, reload: useCallback(() => setN((x) => x + 1), []) };
}

export function Err({ msg }: { msg: string }) {
  return msg ? <p class="error" role="alert" data-test="error">{msg}</p> : null;
}

export function Badge({ value, kind }: { value: string; kind?: string }) {
  return <span class={`badge ${kind ?? value.toLowerCase()}`} data-test="badge">{value}</span>;
}

export function Card({ title, children, test }: { title: ComponentChildren; children: ComponentChildren; test?: string }) {
  return (
    <section class="card" data-test={test}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

export function when(t?: string): string {
  if (!t || t.startsWith("0001-")) return "";
  return new Date(t).toLocaleString();
}

export function took(from?: string, to?: string): string {
  if (!from || from.startsWith("0001-")) return "";
  const end = to && !to.startsWith("0001-") ? new Date(to).getTime() : Date.now();
  const ms = end - new Date(from).getTime();
  return ms < 1000 ? `${ms} ms` : ms < 120000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60000)} min`;
}

// Action is a button that runs an API call, showing its error if any.
export function Action({ label, run, test, kind, confirm: ask }: {
  label: string; run: () => Promise<unknown>; test: string; kind?: string; confirm?: string;
}) {
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState("");
  const click = async () => {
    if (ask && !confirm(ask)) return;
    setBusy(true);
    setErr("");
    try {
      await run();
    } catch (e) {
      setErr((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="action">
      <button class={kind ?? ""} disabled={busy} onClick={click} data-test={test} data-action="true">{label}</button>
      {err && <span class="error" role="alert" data-test="action-error">{err}</span>}
    </span>
  );
}
