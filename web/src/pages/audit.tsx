// The audit log: search by actor, action and target; export what matches.
import { useState } from "preact/hooks";
import { download, get } from "../api";
import { AuditEntry } from "../types";
import { Action, Badge, Err, useLoad, when } from "../ui";

export function Audit() {
  const [filter, setFilter] = useState({ actor: "", action: "", target: "" });
  const [applied, setApplied] = useState(filter);
  const q = () => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(applied)) if (v) p.set(k, v);
    return p;
  };
  const list = useLoad(() => get<{ entries: AuditEntry[]; total: number }>("/api/v1/audit?limit=200&" + q()), [applied]);
  const verify = useLoad(() => get<{ valid: boolean; entries: number; brokenAt?: number }>("/api/v1/audit/verify"));
  const field = (k: keyof typeof filter) => (
    <label>{k} <input value={filter[k]} data-test={"audit-" + k} onInput={(e) => setFilter({ ...filter, [k]: e.currentTarget.value })} /></label>
  );
  return (
    <div>
      <h1>Audit log</h1>
      <p data-test="audit-chain">{verify.data && (verify.data.valid ? <Badge value={`hash chain intact (${verify.data.entries} entries)`} kind="ok" />
        : <Badge value={`hash chain broken at ${verify.data.brokenAt}`} kind="bad" />)}</p>
      <form class="filters" onSubmit={(e) => { e.preventDefault(); setApplied(filter); }}>
        {field("actor")}{field("action")}{field("target")}
        <button type="submit" data-test="audit-search">Search</button>
        <Action label="Export CSV" test="export-csv" run={() => download("/api/v1/audit/export?format=csv&" + q(), "hotswap-audit.csv")} />
        <Action label="Export JSON lines" test="export-jsonl" run={() => download("/api/v1/audit/export?format=jsonl&" + q(), "hotswap-audit.jsonl")} />
      </form>
      <Err msg={list.error} />
      <p class="muted">{list.data && `${list.data.total} matching entries${list.data.total > 200 ? ", the first 200 shown" : ""}`}</p>
      <div class="scroll"><table>
        <thead><tr><th>#</th><th>Time</th><th>Actor</th><th>Role</th><th>From</th><th>Action</th><th>Target</th><th>Outcome</th></tr></thead>
        <tbody>{list.data?.entries.map((e) => (
          <tr key={e.seq} data-test="audit-entry"><td>{e.seq}</td><td>{when(e.at)}</td><td>{e.actor}</td><td>{e.role}</td><td>{e.from}</td>
            <td>{e.action}</td><td>{e.target}</td><td class={e.outcome === "ok" ? "" : "error"}>{e.outcome}</td></tr>
        ))}</tbody>
      </table></div>
    </div>
  );
}
