// The audit log: search by user, event type, migration, database and
// time, page through the matches, and export them (fetched with the
// session's token and saved from a Blob: no token in a URL).
import { useState } from "preact/hooks";
import { download, get } from "../api";
import { AuditEntry } from "../types";
import { Action, Badge, Err, useLoad, when } from "../ui";

const pageSize = 100;

interface Filter { user: string; type: string; migration: string; database: string; since: string; until: string }

const fields: { key: keyof Filter; label: string; hint: string; kind?: string }[] = [
  { key: "user", label: "User", hint: "dana, system" },
  { key: "type", label: "Event type", hint: "login, create_migration" },
  { key: "migration", label: "Migration", hint: "mig-..." },
  { key: "database", label: "Database", hint: "id or name" },
  { key: "since", label: "Since", hint: "", kind: "datetime-local" },
  { key: "until", label: "Until", hint: "", kind: "datetime-local" },
];

// query turns the filter into the API's parameters (times as RFC 3339).
function query(f: Filter): URLSearchParams {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) {
    if (!v) continue;
    p.set(k, k === "since" || k === "until" ? new Date(v).toISOString().replace(/\.\d+Z$/, "Z") : v);
  }
  return p;
}

export function Audit() {
  const empty: Filter = { user: "", type: "", migration: "", database: "", since: "", until: "" };
  const [filter, setFilter] = useState(empty);
  const [applied, setApplied] = useState(empty);
  const [offset, setOffset] = useState(0);
  const list = useLoad(() => get<{ entries: AuditEntry[]; total: number }>(
    `/api/v1/audit-log?limit=${pageSize}&offset=${offset}&` + query(applied)), [applied, offset]);
  const verify = useLoad(() => get<{ valid: boolean; entries: number; brokenAt?: number }>("/api/v1/audit-log/verify"));
  const exportAs = (format: string) => () =>
    download(`/api/v1/audit-log/export?format=${format}&` + query(applied), `hotswap-audit.${format}`);
  const total = list.data?.total ?? 0;
  return (
    <div>
      <h1>Audit log</h1>
      <p data-test="audit-chain">{verify.data && (verify.data.valid ? <Badge value={`hash chain intact (${verify.data.entries} entries)`} kind="ok" />
        : <Badge value={`hash chain broken at ${verify.data.brokenAt}`} kind="bad" />)}</p>
      <form class="filters audit-filters" onSubmit={(e) => { e.preventDefault(); setOffset(0); setApplied(filter); }}>
        {fields.map((f) => (
          <label key={f.key}>{f.label} <input type={f.kind ?? "text"} value={filter[f.key]} placeholder={f.hint} data-test={"audit-" + f.key}
            onInput={(e) => setFilter({ ...filter, [f.key]: e.currentTarget.value })} /></label>
        ))}
        <button type="submit" class="primary" data-test="audit-search">Search</button>
        <button type="button" data-test="audit-clear" onClick={() => { setFilter(empty); setOffset(0); setApplied(empty); }}>Clear</button>
      </form>
      <div class="row">
        <Action label="Export CSV" test="export-csv" run={exportAs("csv")} />
        <Action label="Export JSON lines" test="export-jsonl" run={exportAs("jsonl")} />
        <span class="muted small">exports every entry matching the search, not only this page</span>
      </div>
      <Err msg={list.error} />
      <div class="row">
        <span class="muted" data-test="audit-total">{list.data && (total === 0 ? "no matching entries" :
          `entries ${offset + 1}–${Math.min(offset + pageSize, total)} of ${total}`)}</span>
        <button type="button" disabled={offset === 0} data-test="audit-prev" onClick={() => setOffset(Math.max(0, offset - pageSize))}>Previous</button>
        <button type="button" disabled={offset + pageSize >= total} data-test="audit-next" onClick={() => setOffset(offset + pageSize)}>Next</button>
      </div>
      <div class="scroll"><table>
        <thead><tr><th>#</th><th>Time</th><th>User</th><th>Role</th><th>From</th><th>Event type</th><th>Target</th><th>Outcome</th></tr></thead>
        <tbody>{list.data?.entries.map((e) => (
          <tr key={e.seq} data-test="audit-entry"><td>{e.seq}</td><td>{when(e.at)}</td><td>{e.actor}</td><td>{e.role}</td><td>{e.from}</td>
            <td>{e.action}</td><td>{e.target}</td><td class={e.outcome === "ok" ? "" : "error"}>{e.outcome}</td></tr>
        ))}</tbody>
      </table></div>
    </div>
  );
}
