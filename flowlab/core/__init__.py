"""The lab without Flask: content, providers, the runner, storage and secrets.

Nothing here imports flask, werkzeug or ``flowlab.web`` (an import-linter contract).
``ROOT`` is the project's folder: its ``content/``, ``static/`` and ``templates/``.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
