// Migrations: the list, filtered by status and database.
import { useState } from "preact/hooks";
import { get } from "../api";
import { MigrationSummary } from "../types";
import { Badge, Err, useLoad, when } from "../ui";

const statuses = ["", "Draft", "Approved", "Executing", "Succeeded", "Failed", "RolledBack"];

function query(): URLSearchParams {
  const q = location.hash.split("?")[1] ?? "";
  return new URLSearchParams(q);
}

export function Migrations() {
  const [status, setStatus] = useState(query().get("status") ?? "");
  const [database, setDatabase] = useState(query().get("database") ?? "");
  const [offset, setOffset] = useState(0);
  const limit = 50;
  const list = useLoad(() => {
    const q = new URLSearchParams({ limit: String(limit), offset: String(offset) });
    if (status) q.set("status", status);
    if (database) q.set("database", database);
    return get<{ migrations: MigrationSummary[]; total: number }>("/api/v1/migrations?" + q);
  }, [status, database, offset]);
  return (
    <div>
      <h1>Migrations</h1>
      <div class="filters">
        <label>Status <select value={status} onChange={(e) => { setOffset(0); setStatus(e.currentTarget.value); }} data-test="status-filter">
          {statuses.map((s) => <option value={s} key={s}>{s || "any"}</option>)}
        </select></label>
        <label>Database <input value={database} placeholder="name or id" onChange={(e) => { setOffset(0); setDatabase(e.currentTarget.value); }} data-test="database-filter" /></label>
      </div>
      <Err msg={list.error} />
      <div class="scroll">
        <table>
          <thead><tr><th>Name</th><th>Database</th><th>Status</th><th>Risk</th><th>Strategy</th><th>Author</th><th>Created</th></tr></thead>
          <tbody>
            {list.data?.migrations.map((m) => (
              <tr key={m.migrationId} data-test="migration-row">
                <td><a href={`#/migrations/${encodeURIComponent(m.migrationId)}`}>{m.name}</a></td>
                <td>{m.targetDatabase}</td><td><Badge value={m.status} /></td><td><Badge value={m.riskLevel} /></td>
                <td>{m.strategy}</td><td>{m.createdBy}</td><td>{when(m.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list.data && list.data.total > limit && (
        <p>
          <button disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - limit))}>Previous</button>{" "}
          {offset + 1}–{Math.min(offset + limit, list.data.total)} of {list.data.total}{" "}
          <button disabled={offset + limit >= list.data.total} onClick={() => setOffset(offset + limit)}>Next</button>
        </p>
      )}
    </div>
  );
}
