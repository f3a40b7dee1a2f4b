// A script shown line by line with its SQL highlighted and each lint
// finding under the line it concerns, with its safe rewrite.
import { Finding } from "./types";

const keywords = new Set(("select from where insert into update delete set values create alter drop table index " +
  "concurrently unique primary key foreign references constraint add column not null default if exists on " +
  "begin commit rollback rename to type using grant revoke view sequence schema and or in is as with " +
  "cascade restrict check validate lock truncate vacuum analyze int integer bigint text varchar boolean " +
  "serial timestamp timestamptz jsonb").split(" "));

const token = /(--[^\n]*)|('(?:[^']|'')*')|("(?:[^"]|"")*")|(\b\d+(?:\.\d+)?\b)|([A-Za-z_][A-Za-z0-9_]*)|(\s+|.)/g;

function highlight(line: string) {
  const out = [];
  let m: RegExpExecArray | null;
  token.lastIndex = 0;
  let i = 0;
  while ((m = token.exec(line)) !== null) {
    const [text, comment, str, ident, num, word] = m;
    const cls = comment ? "c" : str ? "s" : ident ? "i" : num ? "n" : word && keywords.has(word.toLowerCase()) ? "k" : "";
    out.push(cls ? <span class={"sql-" + cls} key={i++}>{text}</span> : text);
  }
  return out;
}

export function Script({ text, findings = [], test }: { text: string; findings?: Finding[]; test: string }) {
  const byLine = new Map<number, Finding[]>();
  for (const f of findings) byLine.set(f.line, [...(byLine.get(f.line) ?? []), f]);
  return (
    <div class="script" data-test={test}>
      {text.split("\n").map((line, i) => (
        <div key={i}>
          <div class="line"><span class="ln">{i + 1}</span><code>{highlight(line)}</code></div>
          {byLine.get(i + 1)?.map((f, j) => <FindingNote f={f} key={j} />)}
        </div>
      ))}
    </div>
  );
}

function FindingNote({ f }: { f: Finding }) {
  return (
    <div class={`finding ${f.severity}`} data-test="finding" data-line={f.line}>
      <strong>{f.severity}</strong> <code>{f.rule}</code> (line {f.line}, column {f.column}): {f.message}
      {f.lock && <div class="muted">lock: {f.lock}{f.lockHeld && ` held ${f.lockHeld}`}{f.work && ` · ${f.work}`}</div>}
      {f.ignoreReason && <div class="muted">ignored: {f.ignoreReason}</div>}
      {f.rewrite && <pre class="rewrite" data-test="rewrite">{f.rewrite}</pre>}
    </div>
  );
}
