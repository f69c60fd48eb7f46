// An independent authorization server for the interop tests: panva's
// oidc-provider (OpenID Certified), configured here and nothing else.
//
// Environment: PORT (required), HOST (default 127.0.0.1), REDIRECT_URIS
// (comma-separated; the lab's callback). Prints "listening <issuer>" when ready,
// after the lines naming what runs beside it on free ports of HOST:
// - "mcp-server <resource>": a small MCP server (mcp-server.mjs) whose
//   authorization server is this issuer;
// - "tenant-issuer <issuer>" and "tenant-mcp-server <resource>": a second
//   oidc-provider mounted under a path (/tenant), as its documentation shows, so
//   its metadata is at {issuer}/.well-known/…, not at RFC 8414's path-inserted
//   URL; and an MCP server of its own;
// - "orphan-mcp-server <resource>": an MCP server whose authorization server
//   (on the tenant's port, outside /tenant) publishes no metadata at all.
import { generateKeyPairSync } from "node:crypto";
import { createServer } from "node:http";

import Provider, { errors } from "oidc-provider";

import { resourceServerInfo, startMcpServer } from "./mcp-server.mjs";

const host = process.env.HOST || "127.0.0.1";
const port = Number(process.env.PORT);
const issuer = `http://${host}:${port}`;
const redirectUris = (process.env.REDIRECT_URIS || "").split(",").filter(Boolean);

// One fresh RS256 key per run: the lab must fetch it from jwks_uri to verify.
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: "jwk" }), kid: "interop-1",
  use: "sig", alg: "RS256" };

const codeGrants = ["authorization_code", "refresh_token"];
const clients = [
  { // confidential: client_secret_basic, every grant the lab runs
    client_id: "flowlab-web", client_secret: "flowlab-web-secret",
    token_endpoint_auth_method: "client_secret_basic",
    grant_types: [...codeGrants, "client_credentials"],
    scope: "openid offline_access profile email api:read",
  },
  { // public: PKCE, no secret
    client_id: "flowlab-spa", token_endpoint_auth_method: "none",
    grant_types: codeGrants,
  },
  { // native public client: prompt=none answers interaction_required
    client_id: "flowlab-native", token_endpoint_auth_method: "none",
    application_type: "native", grant_types: codeGrants,
  },
  { // confidential, but not allowed client credentials: unauthorized_client
    client_id: "flowlab-code-only", client_secret: "flowlab-code-only-secret",
    token_endpoint_auth_method: "client_secret_basic", grant_types: codeGrants,
    scope: "openid email", // asking for more gives invalid_scope
  },
].map((client) => ({ response_types: ["code"], redirect_uris: redirectUris,
  ...client }));

const configuration = (mcpResource) => ({
  clients,
  jwks: { keys: [signingKey] },
  cookies: { keys: ["interop-cookie-key-not-secret"] },
  scopes: ["openid", "offline_access", "profile", "email", "api:read"],
  claims: { openid: ["sub"], email: ["email", "email_verified"],
    profile: ["name", "preferred_username"] },
  features: {
    devInteractions: { enabled: true }, // the built-in login and consent forms
    clientCredentials: { enabled: true },
    revocation: { enabled: true },
    introspection: { // the runner's "Introspect and revoke": a client asks of its own
      enabled: true,
      allowedPolicy: async (ctx, client, token) => token.clientId === client.clientId,
    },
    // Open dynamic registration (RFC 7591) for the FAPI 2.0 flow's own client and
    // the MCP flow's agent (a public client: PKCE is then required, S256 only);
    // PAR and DPoP are on by default in oidc-provider 9.
    registration: { enabled: true },
    // RFC 8707: a `resource` names the MCP server (or the flow's other one), and
    // its access token is then a JWT (RFC 9068) whose aud is that resource.
    resourceIndicators: { enabled: true,
      getResourceServerInfo: resourceServerInfo(mcpResource, errors.InvalidTarget) },
  },
  // offline_access is OpenID Connect's way to ask for a refresh token (Core §11);
  // an OAuth request made for a resource (RFC 8707), as an MCP client's is, gets
  // one too when its client may use the refresh_token grant.
  async issueRefreshToken(ctx, client, code) {
    const resources = [].concat(code.resource ?? []);
    return client.grantTypeAllowed("refresh_token")
      && (code.scopes.has("offline_access") || resources.length > 0);
  },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, name: `User ${id}`, preferred_username: id,
          email: `${id}@example.test`, email_verified: true };
      },
    };
  },
});

const tenantServer = createServer();
await new Promise((resolve) => tenantServer.listen(0, host, resolve));
const tenantIssuer = `http://${host}:${tenantServer.address().port}/tenant`;
const tenantResource = await startMcpServer(host, tenantIssuer);
const tenant = new Provider(tenantIssuer, configuration(tenantResource)).callback();
tenantServer.on("request", (req, res) => {
  if (!/^\/tenant(\/|\?|$)/.test(req.url)) {
    return res.writeHead(404).end();
  }
  req.originalUrl = req.url; // where oidc-provider reads its mount path
  req.url = req.url.slice("/tenant".length) || "/";
  return tenant(req, res);
});
console.log(`tenant-issuer ${tenantIssuer}`);
console.log(`tenant-mcp-server ${tenantResource}`);
// An MCP server naming an authorization server that publishes no metadata.
const nowhere = tenantIssuer.replace(/\/tenant$/, "/nowhere");
console.log(`orphan-mcp-server ${await startMcpServer(host, nowhere)}`);

const mcpResource = await startMcpServer(host, issuer);
console.log(`mcp-server ${mcpResource}`);
const provider = new Provider(issuer, configuration(mcpResource));
provider.listen(port, host, () => console.log(`listening ${issuer}`));
