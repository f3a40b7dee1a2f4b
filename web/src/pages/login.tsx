// Sign in with a user's password (the API's login token) or a pasted token.
import { useState } from "preact/hooks";
import { call } from "../api";
import { claims, Role, Session } from "../session";
import { Err } from "../ui";

interface LoginResponse { token: string; user: { username: string; role: Role } }

// roleOf finds a pasted API token's role by what it may read: the user
// list is Admin's, the audit log Admin's and DBA's. Anything less is shown
// as a Viewer's console (the API still lets a Developer do what it allows).
async function roleOf(token: string): Promise<Role> {
  const ok = (path: string) => call("GET", path, undefined, token).then(() => true, () => false);
  await call("GET", "/api/v1/cluster", undefined, token); // a bad token fails here, with the API's message
  if (await ok("/api/v1/users")) return "Admin";
  if (await ok("/api/v1/audit-log?limit=1")) return "DBA";
  return "Viewer";
}

export function Login({ onLogin }: { onLogin: (s: Session) => void }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [token, setToken] = useState("");
  const [err, setErr] = useState("");
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr("");
    try {
      if (token.trim()) {
        const t = token.trim();
        const c = claims(t);
        onLogin(c ? { token: t, user: c.sub, role: c.role } : { token: t, user: "API token", role: await roleOf(t) });
      } else {
        const r = await call<LoginResponse>("POST", "/api/v1/authentication/login", { username, password });
        onLogin({ token: r.token, user: r.user.username, role: r.user.role });
      }
    } catch (e) {
      setErr((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="login">
      <form onSubmit={submit} data-test="login">
        <h1>HotSwap</h1>
        <label>User<input name="username" autocomplete="username" value={username} onInput={(e) => setUsername(e.currentTarget.value)} /></label>
        <label>Password<input name="password" type="password" autocomplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} /></label>
        <p class="muted">or</p>
        <label>API token<input name="token" type="password" autocomplete="off" value={token} onInput={(e) => setToken(e.currentTarget.value)} /></label>
        <button type="submit" disabled={busy} data-test="sign-in">Sign in</button>
        <Err msg={err} />
        <p class="muted small">The token stays in this tab only (session storage) and goes to this server's API.</p>
      </form>
    </div>
  );
}
