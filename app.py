"""Entry point: ``python app.py [--host H] [--port P] [--sandbox-only]``."""

from __future__ import annotations

import argparse

from waitress import serve

from flowlab import create_app
from flowlab.serving import start_backchannel


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve OAuth Flow Lab with waitress.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument(
        "--sandbox-only",
        action="store_true",
        help="serve only the sandbox provider (a second origin for demos)",
    )
    args = parser.parse_args(argv)
    app = create_app({"SANDBOX_ONLY": True} if args.sandbox_only else None)
    if not args.sandbox_only:
        start_backchannel(app)
    what = "sandbox provider" if args.sandbox_only else "OAuth Flow Lab"
    print(f"{what} on http://{args.host}:{args.port}/", flush=True)
    serve(app, host=args.host, port=args.port, threads=args.threads, ident="flowlab")


if __name__ == "__main__":
    main()
