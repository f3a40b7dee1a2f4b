// The API's wire types the console reads (internal/api and internal/domain
// are the source of truth; only the fields shown are declared).
export interface InstanceRef { agent: string; instanceId: string; role: string }
export interface Database {
  databaseId: string; name: string; type: string; environment: string;
  labels?: Record<string, string>; instances: InstanceRef[];
}
export interface Sample { instanceId: string; at: string; avgLatencyMs: number; p95LatencyMsEstimate: number;
  tps?: number; cpuPercent?: number; lockWaitMs?: number; replicationLagSeconds?: number; activeConnections?: number }
export interface InstanceHealth {
  agent: string; instanceId: string; role: string; detectedRole: string; agentConnected: boolean;
  reachable: boolean; serverVersion?: string; activeConnections: number; replicationLagSeconds: number;
  lastCheck?: string; error?: string; counters?: Sample;
}
export interface DatabaseHealth {
  databaseId: string; name: string; isHealthy: boolean; problems: string[]; warnings?: string[];
  activeConnections: number; replicationLag: number; instances: InstanceHealth[];
}
export interface AgentSummary {
  name: string; connected: boolean; hostname?: string; version?: string; lastSeen?: string;
  instances: number; unreachable?: string[]; preflight?: string;
}
export interface AgentList { agents: AgentSummary[]; total: number; limit: number; offset: number }
export interface Finding {
  rule: string; severity: string; class: string; statement: number; line: number; column: number;
  message: string; lock?: string; lockHeld?: string; work?: string; rewrite?: string; ignoreReason?: string;
}
export interface MigrationSummary {
  migrationId: string; name: string; status: string; targetDatabase: string; strategy: string;
  riskLevel: string; requiresApproval: boolean; createdBy: string; createdAt: string;
}
export interface Migration extends MigrationSummary {
  targetDatabaseId: string; migrationScript: string; rollbackScript: string; computedRisk?: string;
  findings?: Finding[]; ignoredFindings?: Finding[]; description?: string;
}
export interface Approval { approver: string; role: string; decision: string; notes?: string; at: string }
export interface Approvals { required: number; approvals: Approval[]; valid: number; rejected: boolean; satisfied: boolean; missing?: string }
export interface Step {
  stepId: string; kind: string; phaseIndex: number; phase: string; direction: string; agent: string;
  instanceId: string; status: string; transactional: boolean; attempt: number; retries: number;
  startedAt?: string; completedAt?: string; error?: { message: string; sqlState?: string };
}
export interface PhaseView { index: number; name: string; explanation: string; steps: number; done: number; progress: number }
export interface Plan { strategy: string; phases: PhaseView[]; steps: Step[]; explanation: string[] }
export interface LogEntry { time: string; level: string; message: string; stepId?: string; statement?: string }
export interface Decision {
  action: string; counter: string; instanceId?: string; value: number; threshold: number;
  onsetAt: string; detectedAt: string; stepId?: string; decidedBy?: string; rollbackFinishedAt?: string;
  statements?: { id: string; beforeMs: number; afterMs: number; calls: number }[];
}
export interface Thresholds { latencyFactor: number; lockWaitMs: number; cpuPercent: number; replicationLagSeconds: number }
export interface Execution {
  executionId: string; migrationId: string; databaseId: string; environment: string; strategy: string;
  dryRun: boolean; status: string; currentPhase?: string; progress: number; initiatedBy: string;
  steps: Step[]; logs: LogEntry[]; decisions: Decision[]; phases: PhaseView[];
  errorMessage?: string; rollbackReason?: string; rollbackRequestedBy?: string; pausedBy?: string;
  createdAt: string; startedAt?: string; completedAt?: string; rollbackStartedAt?: string; rollbackCompletedAt?: string;
  monitoring: { thresholds: Thresholds };
}
export interface Baseline { avgLatencyMs: number; p95LatencyMsEstimate: number; tps: number; cpuPercent: number; replicationLagSeconds: number }
export interface Metrics {
  executionId: string; status: string; monitoring: { thresholds: Thresholds };
  baselines: { stepId: string; agent: string; instanceId: string; baseline: Baseline }[];
  snapshots: (Sample & { agent: string })[]; decisions: Decision[];
}
export interface AuditEntry { seq: number; index: number; at: string; actor: string; role?: string; from?: string; action: string; target?: string; outcome: string }
