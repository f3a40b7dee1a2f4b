// An execution, live: phases and steps with status and timings, the guard's
// decisions and why, the log as it grows, a counter chart against the
// baseline and thresholds, and pause / resume / rollback for operators.
// Changes come as server-sent events from this server's committed state.
import { useEffect, useState } from "preact/hooks";
import { post, stream } from "../api";
import { CounterChart, Series } from "../chart";
import { may, Session } from "../session";
import { Decision, Execution, Metrics } from "../types";
import { Action, Badge, Card, Err, took, when } from "../ui";

const terminal = new Set(["Succeeded", "Failed", "RolledBack", "Cancelled"]);

const counters: Record<string, { unit: string; value: (s: Metrics["snapshots"][0]) => number;
  baseline: (m: Metrics) => number | undefined; threshold: (m: Metrics, base?: number) => number | undefined }> = {
  latency: { unit: "ms (mean latency)", value: (s) => s.avgLatencyMs,
    baseline: (m) => m.baselines[0]?.baseline.avgLatencyMs,
    threshold: (m, b) => (b ? b * (m.monitoring.thresholds.latencyFactor || 1.5) : undefined) },
  lock_wait: { unit: "ms (lock wait)", value: (s) => s.lockWaitMs ?? 0, baseline: () => 0,
    threshold: (m) => m.monitoring.thresholds.lockWaitMs },
  cpu: { unit: "% CPU", value: (s) => s.cpuPercent ?? 0, baseline: (m) => m.baselines[0]?.baseline.cpuPercent,
    threshold: (m) => m.monitoring.thresholds.cpuPercent },
  replication_lag: { unit: "s (replication lag)", value: (s) => s.replicationLagSeconds ?? 0,
    baseline: (m) => m.baselines[0]?.baseline.replicationLagSeconds, threshold: (m) => m.monitoring.thresholds.replicationLagSeconds },
};

export function reason(d: Decision): string {
  const unit: Record<string, string> = { latency: "ms", lock_wait: "ms", cpu: "%", replication_lag: "s" };
  const u = unit[d.counter] ?? "";
  const over = d.action === "resume" ? "back under" : "over the threshold";
  return `${d.counter.replace("_", " ")} ${d.value.toFixed(2)}${u} ${over} ${d.threshold.toFixed(2)}${u}${d.instanceId ? " on " + d.instanceId : ""}`;
}

export function ExecutionPage({ migrationId, executionId, session }: { migrationId: string; executionId: string; session: Session }) {
  const path = `/api/v1/migrations/${encodeURIComponent(migrationId)}/executions/${encodeURIComponent(executionId)}`;
  const [exec, setExec] = useState<Execution | null>(null);
  const [metrics, setMetrics] = useState<Metrics | null>(null);
  const [live, setLive] = useState<{ connected: boolean; error?: string }>({ connected: false });
  const [counter, setCounter] = useState("latency");
  const [reasonText, setReason] = useState("");

  useEffect(() => {
    const ac = new AbortController();
    stream(path + "/events", ac.signal, (ev) => {
      if (ev.type === "execution") {
        const e = ev.data as Execution;
        setExec(e);
        if (e.decisions?.length) setCounter((c) => (c === "latency" ? e.decisions[0].counter : c)); // show what was decided on
      }
      if (ev.type === "metrics") {
        const m = ev.data as Metrics;
        setMetrics((prev) => (prev ? { ...m, snapshots: [...prev.snapshots, ...m.snapshots].slice(-2000) } : m));
      }
    }, (connected, error) => setLive({ connected, error }));
    return () => ac.abort();
  }, [path]);

  if (!exec) return <div><p class="muted">Connecting…</p><Err msg={live.error ?? ""} /></div>;
  const act = (action: string, body: unknown) => () => post(path + "/" + action, body);
  const running = !terminal.has(exec.status);
  return (
    <div>
      <p><a href={`#/migrations/${encodeURIComponent(migrationId)}`}>← Migration</a></p>
      <h1>Execution {exec.executionId} <span data-test="execution-status"><Badge value={exec.status} /></span></h1>
      <p class="muted">
        {exec.strategy}{exec.dryRun && " · dry run"} · {exec.environment} · by {exec.initiatedBy} · started {when(exec.startedAt)}
        {" "}· took {took(exec.startedAt, exec.completedAt)} · {exec.progress}%{" "}
        <span class={live.connected ? "live on" : "live"} data-test="live">{live.connected ? "● live" : "○ " + (live.error ?? "offline")}</span>
      </p>
      {exec.errorMessage && <p class="error" data-test="execution-error">{exec.errorMessage}</p>}
      {exec.rollbackReason && <p class="warning" data-test="rollback-reason">Rolled back: {exec.rollbackReason}{exec.rollbackRequestedBy && ` (by ${exec.rollbackRequestedBy})`}</p>}
      {may.operate(session.role) && (
        <div class="row" data-test="execution-actions">
          {exec.status === "Running" && <Action label="Pause" test="pause" run={act("pause", { reason: reasonText })} />}
          {exec.status === "Paused" && <Action label="Resume" test="resume" run={act("resume", {})} />}
          {!exec.dryRun && (running || exec.status === "Succeeded") && (
            <>
              <input placeholder="reason (needed to roll back)" value={reasonText} onInput={(e) => setReason(e.currentTarget.value)} data-test="reason" />
              <Action label="Roll back" test="rollback" kind="danger" run={act("rollback", { reason: reasonText })} />
            </>
          )}
        </div>
      )}
      <Card title="Decisions" test="decisions">
        {exec.decisions?.length ? (
          <ul>{exec.decisions.map((d, i) => (
            <li key={i} data-test="decision"><Badge value={d.action} kind={d.action === "resume" ? "ok" : "bad"} /> {reason(d)}
              <span class="muted"> · detected {when(d.detectedAt)} by {d.decidedBy}{d.rollbackFinishedAt && `, rolled back by ${when(d.rollbackFinishedAt)}`}</span>
              {d.statements?.map((s) => <div class="muted small" key={s.id}>statement {s.id}: {s.beforeMs.toFixed(3)} ms → {s.afterMs.toFixed(3)} ms ({s.calls} calls)</div>)}
            </li>))}</ul>
        ) : <p class="muted">No decision: every counter stayed within its threshold.</p>}
      </Card>
      <Card title="Phases and steps" test="steps">
        {exec.phases?.map((ph) => (
          <div class="phase" key={ph.index}><strong>{ph.name}</strong> <span class="muted">{ph.done}/{ph.steps} · {ph.explanation}</span></div>
        ))}
        <div class="scroll"><table>
          <thead><tr><th>Step</th><th>Phase</th><th>Kind</th><th>Instance</th><th>Status</th><th>Attempt</th><th>Started</th><th>Took</th></tr></thead>
          <tbody>{exec.steps.map((s) => (
            <tr key={s.stepId} data-test="step"><td>{s.stepId}{s.direction === "rollback" && " ↩"}</td><td>{s.phase}</td><td>{s.kind}</td>
              <td>{s.agent}/{s.instanceId}</td><td><Badge value={s.status} /></td><td>{s.attempt}{s.retries ? ` (${s.retries} retries)` : ""}</td>
              <td>{when(s.startedAt)}</td><td>{took(s.startedAt, s.completedAt)}</td></tr>
          ))}</tbody>
        </table></div>
      </Card>
      <Card title={<>Counters <select value={counter} onChange={(e) => setCounter(e.currentTarget.value)} data-test="counter">
        {Object.keys(counters).map((c) => <option key={c} value={c}>{c.replace("_", " ")}</option>)}</select></>} test="counters">
        {metrics && metrics.snapshots.length > 0 ? <CounterChart s={series(metrics, counter)} test="chart" /> :
          <p class="muted">No samples kept yet: they come in batches while a step runs and is watched.</p>}
      </Card>
      <Card title="Log" test="log">
        <div class="log">{exec.logs.map((l, i) => (
          <div key={i} class={"logline " + l.level} data-test="logline"><span class="muted">{new Date(l.time).toLocaleTimeString()}</span> {l.level} {l.message}
            {l.statement && <code> {l.statement}</code>}</div>
        ))}</div>
      </Card>
    </div>
  );
}

function series(m: Metrics, counter: string): Series {
  const c = counters[counter];
  const inst = m.baselines[0]?.instanceId ?? m.snapshots[0]?.instanceId;
  const snaps = m.snapshots.filter((s) => s.instanceId === inst);
  const baseline = c.baseline(m);
  return { times: snaps.map((s) => new Date(s.at).getTime() / 1000), values: snaps.map(c.value), baseline,
    threshold: c.threshold(m, baseline), unit: c.unit };
}
