// The HotSwap web console: a single page served by hotswapd at /ui/, routed
// by the location's hash (#/databases, #/migrations/ID, ...), so the server
// serves one page and a reload keeps the place.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { useSession } from "./api";
import { clear, load, may, save, Session } from "./session";
import { Login } from "./pages/login";
import { Databases } from "./pages/databases";
import { Migrations } from "./pages/migrations";
import { MigrationPage } from "./pages/migration";
import { ExecutionPage } from "./pages/execution";
import { Audit } from "./pages/audit";

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return hash;
}

function App() {
  const [session, setSession] = useState<Session | null>(load());
  const hash = useHash();
  const signOut = () => {
    clear();
    setSession(null);
  };
  useSession(session, signOut);
  if (!session) {
    return <Login onLogin={(s) => { save(s); setSession(s); if (!location.hash) location.hash = "#/databases"; }} />;
  }
  const parts = hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  let page;
  switch (parts[0]) {
    case "migrations":
      page = parts[1] ? <MigrationPage id={parts[1]} session={session} /> : <Migrations />;
      break;
    case "executions":
      page = <ExecutionPage migrationId={parts[1]} executionId={parts[2]} session={session} />;
      break;
    case "audit":
      page = <Audit />;
      break;
    default:
      page = <Databases />;
  }
  const nav = (href: string, label: string) => (
    <a href={href} class={hash.startsWith(href) || (href === "#/databases" && parts[0] === "") ? "active" : ""}>{label}</a>
  );
  return (
    <div class="app">
      <header>
        <strong class="brand">HotSwap</strong>
        <nav>
          {nav("#/databases", "Databases")}
          {nav("#/migrations", "Migrations")}
          {may.audit(session.role) && nav("#/audit", "Audit log")}
        </nav>
        <span class="who" data-test="who">{session.user} · {session.role}</span>
        <button class="link" onClick={signOut}>Sign out</button>
      </header>
      <main key={hash}>{page}</main>
    </div>
  );
}

render(<App />, document.getElementById("app")!);
