"""The inspector (issue 22): paste anything OAuth, get it explained and checked."""

from __future__ import annotations
