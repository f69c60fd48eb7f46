// A small MCP server beside oidc-provider, for the MCP flow's interop tests: a
// protected resource whose authorization server is oidc-provider.
//
// - Without a token it answers 401 with `WWW-Authenticate: Bearer
//   resource_metadata="…"` (RFC 9728 §5.1, RFC 6750 §3).
// - It serves its protected resource metadata (RFC 9728 §2, §3.1) naming
//   oidc-provider in `authorization_servers`.
// - It checks a token as RFC 9068 §4 says, with jose (oidc-provider's own JOSE
//   library): the signature against the keys at the issuer's jwks_uri (found in
//   its OpenID configuration, {issuer}/.well-known/openid-configuration), `typ`
//   at+jwt, `iss`, `exp`, and `aud` naming this resource; then 200 with a small
//   JSON, else 401 `invalid_token`.
//
// Each answer is logged as "mcp <origin> <method> <path> <status> <why>", which
// the tests read as the server's side of the wire.
import { createServer } from "node:http";

import { createRemoteJWKSet, jwtVerify } from "jose";

const PRM = "/.well-known/oauth-protected-resource";
const PATH = "/mcp";
export const SCOPE = "mcp:tools";
// The flow's second MCP server (mcp.toml's `also`): oidc-provider issues tokens
// for it too, so that this one can be seen refusing them.
export const OTHER = "https://mcp.example.com/tools";

/** Start the MCP server on a free port of `host`; resolves to its resource
 * identifier (RFC 9728 §1.2), the URL a user gives the lab as the API base. */
export function startMcpServer(host, issuer) {
  let keys; // the issuer's JWK Set, found through its metadata on first use
  async function jwks() {
    if (!keys) {
      const metadata = await fetch(`${issuer}/.well-known/openid-configuration`);
      keys = createRemoteJWKSet(new URL((await metadata.json()).jwks_uri));
    }
    return keys;
  }

  const server = createServer(async (req, res) => {
    const origin = `http://${host}:${server.address().port}`;
    const resource = origin + PATH;
    const path = new URL(req.url, origin).pathname;
    const answer = (status, body, why = "", headers = {}) => {
      console.log(`mcp ${origin} ${req.method} ${path} ${status}${why ? ` ${why}` : ""}`);
      res.writeHead(status, { "Content-Type": "application/json",
        "Cache-Control": "no-store", ...headers });
      res.end(JSON.stringify(body));
    };
    const challenge = (error, description) => ({ "WWW-Authenticate": "Bearer "
      + (error ? `error="${error}", error_description="${description}", ` : "")
      + `resource_metadata="${origin}${PRM}${PATH}"` });

    if (req.method === "GET" && path === PRM + PATH) {
      return answer(200, { resource, authorization_servers: [issuer],
        scopes_supported: [SCOPE], bearer_methods_supported: ["header"],
        resource_name: "Interop MCP server" });
    }
    if (req.method !== "GET" || !(path === PATH || path.startsWith(`${PATH}/`))) {
      return answer(404, { error: "not_found" });
    }
    const [scheme, token] = (req.headers.authorization || "").split(" ");
    if (scheme !== "Bearer" || !token) {
      return answer(401, { error: "unauthorized" }, "no token", challenge());
    }
    try {
      const { payload } = await jwtVerify(token, await jwks(), {
        issuer, audience: resource, typ: "at+jwt", algorithms: ["RS256"] });
      return answer(200, { server: "Interop MCP server", sub: payload.sub,
        client_id: payload.client_id, scope: payload.scope },
      `aud=${payload.aud}`);
    } catch (error) {
      const aud = error.claim === "aud" ? `aud=${error.payload.aud}` : error.code;
      const why = error.claim === "aud" ? "the token is for another resource"
        : "the token could not be verified";
      return answer(401, { error: "invalid_token" }, `invalid_token ${aud}`,
        challenge("invalid_token", why));
    }
  });
  return new Promise((resolve) => {
    server.listen(0, host, () => resolve(`http://${host}:${server.address().port}${PATH}`));
  });
}

/** oidc-provider's `getResourceServerInfo` (RFC 8707): JWT access tokens
 * (RFC 9068) for this server and the flow's other one; anything else is
 * `invalid_target`. */
export function resourceServerInfo(resource, InvalidTarget) {
  return async (ctx, indicator) => {
    if (indicator !== resource && indicator !== OTHER) {
      throw new InvalidTarget();
    }
    return { scope: SCOPE, accessTokenFormat: "jwt", accessTokenTTL: 600,
      jwt: { sign: { alg: "RS256" } } };
  };
}
