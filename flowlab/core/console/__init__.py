"""The API console: a run's access token calls the provider's API (issue 20).

``calls`` reads the form and sends the request, ``explain`` says what the answer
means, ``history`` keeps each run's calls for its browser. No Flask here: the views
are ``flowlab.web.console``.
"""
