// Databases: each with its instances (declared and detected role, live
// health), the agents connected, and the preflight warnings.
import { useState } from "preact/hooks";
import { get } from "../api";
import { AgentList, Database, DatabaseHealth } from "../types";
import { Badge, Card, Err, useLoad, when } from "../ui";

export function Databases() {
  const dbs = useLoad(() => get<{ databases: Database[] }>("/api/v1/databases"));
  return (
    <div>
      <h1>Databases</h1>
      <Err msg={dbs.error} />
      {dbs.data?.databases.length === 0 && <p class="muted">No database is registered yet (hotswap database register).</p>}
      {dbs.data?.databases.map((d) => <DatabaseCard key={d.databaseId} db={d} />)}
      <Agents />
    </div>
  );
}

// Agents: the agent list, one page at a time (a fleet has thousands).
function Agents() {
  const [offset, setOffset] = useState(0);
  const limit = 50;
  const list = useLoad(() => get<AgentList>(`/api/v1/agents?limit=${limit}&offset=${offset}`), [offset]);
  const total = list.data?.total ?? 0;
  return (
    <Card title="Agents" test="agents">
      <Err msg={list.error} />
      <table>
        <thead><tr><th>Agent</th><th>Connected</th><th>Host</th><th>Version</th><th>Instances</th><th>Preflight</th><th>Last seen</th></tr></thead>
        <tbody>
          {list.data?.agents.map((a) => (
            <tr key={a.name} data-test="agent"><td>{a.name}</td>
              <td>{a.connected ? <Badge value="connected" kind="ok" /> : <Badge value="disconnected" kind="bad" />}</td>
              <td>{a.hostname}</td><td>{a.version}</td>
              <td>{a.instances}{a.unreachable?.length ? <span class="error"> (unreachable: {a.unreachable.join(", ")})</span> : ""}</td>
              <td class={a.preflight && a.preflight !== "ok" ? "warning" : ""}>{a.preflight}</td>
              <td>{when(a.lastSeen)}</td></tr>
          ))}
        </tbody>
      </table>
      {total > limit && (
        <p data-test="agent-pages">
          <button disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - limit))}>Previous</button>{" "}
          {offset + 1}–{Math.min(offset + limit, total)} of {total}{" "}
          <button disabled={offset + limit >= total} onClick={() => setOffset(offset + limit)}>Next</button>
        </p>
      )}
    </Card>
  );
}

function DatabaseCard({ db }: { db: Database }) {
  const h = useLoad(() => get<DatabaseHealth>(`/api/v1/databases/${encodeURIComponent(db.databaseId)}/health`));
  const labels = Object.entries(db.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(", ");
  const health = h.data;
  return (
    <Card test="database" title={<>
      {db.name} <Badge value={db.type} kind="plain" /> <Badge value={db.environment} kind="plain" />{" "}
      {health && (health.isHealthy ? <Badge value="healthy" kind="ok" /> : <Badge value="unhealthy" kind="bad" />)}
      <button class="link small" onClick={h.reload}>refresh</button>
    </>}>
      <p class="muted">{db.databaseId}{labels && ` · ${labels}`} · <a href={`#/migrations?database=${encodeURIComponent(db.name)}`}>migrations</a></p>
      <Err msg={h.error} />
      {health && (
        <>
          {health.problems.map((p) => <p class="error" key={p} data-test="problem">{p}</p>)}
          {health.warnings?.map((w) => <p class="warning" key={w} data-test="preflight-warning">{w}</p>)}
          <div class="scroll">
            <table>
              <thead><tr><th>Instance</th><th>Role</th><th>Detected</th><th>Agent</th><th>Reachable</th><th>Version</th>
                <th>Connections</th><th>Lag</th><th>Latency</th><th>TPS</th><th>Checked</th></tr></thead>
              <tbody>
                {health.instances.map((i) => (
                  <tr key={i.agent + "/" + i.instanceId} data-test="instance">
                    <td>{i.agent}/{i.instanceId}</td><td>{i.role}</td><td>{i.detectedRole}</td>
                    <td>{i.agentConnected ? <Badge value="connected" kind="ok" /> : <Badge value="not connected" kind="bad" />}</td>
                    <td>{i.reachable ? "yes" : <span class="error">{i.error || "no"}</span>}</td>
                    <td>{i.serverVersion}</td><td>{i.activeConnections}</td><td>{i.replicationLagSeconds.toFixed(1)} s</td>
                    <td>{i.counters ? `${i.counters.avgLatencyMs.toFixed(2)} ms` : ""}</td>
                    <td>{i.counters?.tps !== undefined ? i.counters.tps.toFixed(1) : ""}</td>
                    <td>{when(i.lastCheck)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </Card>
  );
}
