// The signed-in user: the token lives in this tab's sessionStorage (never
// a cookie, so no other site can make the browser send it), with the name
// and role the console shows and decides its buttons by. The API decides
// what is allowed; the role here only hides what would be refused.
export type Role = "Admin" | "DBA" | "Developer" | "Viewer";

export interface Session {
  token: string;
  user: string;
  role: Role;
}

const key = "hotswap.session";

export function load(): Session | null {
  const raw = sessionStorage.getItem(key);
  if (!raw) return null;
  try {
    return JSON.parse(raw) as Session;
  } catch {
    return null;
  }
}

export function save(s: Session): void {
  sessionStorage.setItem(key, JSON.stringify(s));
}

export function clear(): void {
  sessionStorage.removeItem(key);
}

// What each role may do, as in the API's rule table (controlplane/httpapi/authz.go).
export const may = {
  approve: (r: Role) => r === "Admin" || r === "DBA",
  operate: (r: Role) => r === "Admin" || r === "DBA", // pause, resume, roll back
  execute: (r: Role) => r !== "Viewer", // a Developer only on Development and QA: the API says so
  audit: (r: Role) => r === "Admin" || r === "DBA",
};

// claims reads a login token's (JWT) subject and role, without checking
// its signature: the server does that on every call.
export function claims(token: string): { sub: string; role: Role } | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const json = atob(parts[1].replace(/-/g, "+").replace(/_/g, "/"));
    const c = JSON.parse(json);
    return typeof c.sub === "string" && typeof c.role === "string" ? { sub: c.sub, role: c.role } : null;
  } catch {
    return null;
  }
}
