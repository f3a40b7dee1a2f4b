// One migration: scripts with their findings, computed risk, the plan by
// phase, approvals (approve and reject for those allowed), executions.
import { useState } from "preact/hooks";
import { get, post } from "../api";
import { may, Session } from "../session";
import { Script } from "../sql";
import { Approvals, Execution, Migration, Plan } from "../types";
import { Action, Badge, Card, Err, took, useLoad, when } from "../ui";

export function MigrationPage({ id, session }: { id: string; session: Session }) {
  const base = `/api/v1/migrations/${encodeURIComponent(id)}`;
  const mig = useLoad(() => get<Migration>(base), [id]);
  const m = mig.data;
  return (
    <div>
      <p><a href="#/migrations">← Migrations</a></p>
      <Err msg={mig.error} />
      {m && (
        <>
          <h1>{m.name} <Badge value={m.status} /></h1>
          <p class="muted">{m.migrationId} · database {m.targetDatabaseId} · strategy {m.strategy} · by {m.createdBy} · {when(m.createdAt)}</p>
          {m.description && <p>{m.description}</p>}
          <Card title="Risk" test="risk">
            <p>Risk <Badge value={m.riskLevel} /> · computed <Badge value={m.computedRisk || m.riskLevel} />{" "}
              · {m.findings?.length ?? 0} finding(s){m.ignoredFindings?.length ? `, ${m.ignoredFindings.length} ignored` : ""}</p>
          </Card>
          <Card title="Forward script" test="forward">
            <Script text={m.migrationScript} findings={[...(m.findings ?? []), ...(m.ignoredFindings ?? [])]} test="forward-script" />
          </Card>
          <Card title="Rollback script" test="rollback">
            <Script text={m.rollbackScript} test="rollback-script" />
          </Card>
          <PlanCard base={base} m={m} />
          <ApprovalsCard base={base} m={m} session={session} />
          <ExecutionsCard base={base} m={m} session={session} />
        </>
      )}
    </div>
  );
}

// lockLevels lists the lock each flagged statement takes, from the findings.
function lockLevels(m: Migration): string[] {
  return [...new Set((m.findings ?? []).filter((f) => f.lock).map((f) => `statement ${f.statement}: ${f.lock}${f.lockHeld ? " held " + f.lockHeld : ""}`))];
}

function PlanCard({ base, m }: { base: string; m: Migration }) {
  const plan = useLoad(() => get<{ plan: Plan }>(base + "/plan"), [base]);
  const p = plan.data?.plan;
  return (
    <Card title="Plan" test="plan">
      <Err msg={plan.error} />
      {p && (
        <>
          <p>{p.strategy}: {p.explanation?.join(" ")}</p>
          {lockLevels(m).length > 0 && <p data-test="plan-locks">Locks taken: {lockLevels(m).join("; ")}</p>}
          {p.phases.map((ph) => (
            <div key={ph.index} class="phase" data-test="plan-phase">
              <strong>Phase {ph.index + 1}: {ph.name}</strong> <span class="muted">{ph.explanation}</span>
              <ul>
                {p.steps.filter((s) => s.phaseIndex === ph.index).map((s) => (
                  <li key={s.stepId}>{s.kind} on {s.agent}/{s.instanceId}{s.direction === "rollback" ? " (rollback)" : ""}</li>
                ))}
              </ul>
            </div>
          ))}
        </>
      )}
    </Card>
  );
}

function ApprovalsCard({ base, m, session }: { base: string; m: Migration; session: Session }) {
  const st = useLoad(() => get<Approvals>(base + "/approvals"), [base]);
  const [notes, setNotes] = useState("");
  const a = st.data;
  const canDecide = may.approve(session.role) && session.user !== m.createdBy;
  return (
    <Card title="Approvals" test="approvals">
      <Err msg={st.error} />
      {a && (
        <>
          <p data-test="approval-status">
            {a.satisfied ? <Badge value="approved" kind="ok" /> : a.rejected ? <Badge value="rejected" kind="bad" /> : <Badge value="pending" kind="warn" />}{" "}
            {a.valid} of {a.required} required approval(s){a.missing && ` · ${a.missing}`}
          </p>
          <ul>
            {a.approvals.map((d, i) => (
              <li key={i} data-test="decision">{d.decision} by {d.approver} ({d.role}) {when(d.at)}{d.notes && `: ${d.notes}`}</li>
            ))}
          </ul>
          {canDecide && (
            <div class="row">
              <input placeholder="notes, or the reason for a rejection" value={notes} onInput={(e) => setNotes(e.currentTarget.value)} data-test="approval-notes" />
              <Action label="Approve" test="approve" kind="primary" run={async () => { await post(base + "/approve", { notes }); st.reload(); }} />
              <Action label="Reject" test="reject" kind="danger" run={async () => { await post(base + "/reject", { reason: notes }); st.reload(); }} />
            </div>
          )}
          {may.approve(session.role) && session.user === m.createdBy && <p class="muted">You wrote this migration: someone else approves it.</p>}
        </>
      )}
    </Card>
  );
}

function ExecutionsCard({ base, m, session }: { base: string; m: Migration; session: Session }) {
  const list = useLoad(() => get<{ executions: Execution[] }>(base + "/executions"), [base]);
  const execute = (dryRun: boolean) => async () => {
    const r = await post<{ executionId: string }>(base + "/execute", { dryRun });
    location.hash = `#/executions/${encodeURIComponent(m.migrationId)}/${encodeURIComponent(r.executionId)}`;
  };
  return (
    <Card title="Executions" test="executions">
      <Err msg={list.error} />
      {may.execute(session.role) && (
        <div class="row">
          <Action label="Execute" test="execute" kind="primary" run={execute(false)} />
          <Action label="Dry run" test="dry-run" run={execute(true)} />
        </div>
      )}
      <table>
        <thead><tr><th>Execution</th><th>Status</th><th>By</th><th>Started</th><th>Took</th></tr></thead>
        <tbody>
          {list.data?.executions.map((e) => (
            <tr key={e.executionId} data-test="execution-row">
              <td><a href={`#/executions/${encodeURIComponent(m.migrationId)}/${encodeURIComponent(e.executionId)}`}>{e.executionId}</a>{e.dryRun && " (dry run)"}</td>
              <td><Badge value={e.status} /></td><td>{e.initiatedBy}</td><td>{when(e.startedAt || e.createdAt)}</td><td>{took(e.startedAt, e.completedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}
