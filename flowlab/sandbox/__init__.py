"""The sandbox provider: an embedded OAuth 2.0 server that imitates Spotify's.

Flask-free: the authorization server (``server``, ``validator`` and the checks it
calls), its storage and its issuer profiles (``issuers``, ``content/sandbox/
profiles.toml``). ``public.Sandbox`` is what the rest of the app may use of it; the
pages and endpoints that serve it are ``flowlab.web.sandbox``'s.
"""
