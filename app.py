"""Entry point: ``python app.py [--host H] [--port P] [--workers N]``, and more."""

from __future__ import annotations

import argparse
import gc
import logging
import os

from flowlab import create_app  # also what `flask --app app` finds

EPILOG = """With more than one worker, gunicorn serves the lab: a parent process forks
N worker processes, each serving with waitress and several threads, and each also
serves the shared private back channel and the attack labs' attacker on 127.0.0.2.
With one worker, or where gunicorn cannot run (Windows, or it fails to import),
waitress serves the lab in this single process and --workers is ignored."""


def default_workers() -> int:
    """One process per core this process may use, at most four."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


def why_not_gunicorn() -> str | None:
    """Why gunicorn cannot serve here, or None when it can."""
    if os.name != "posix":
        return "gunicorn runs only on POSIX systems"
    try:
        import gunicorn.app.base  # noqa: F401
    except ImportError as exc:
        return f"gunicorn cannot be imported ({exc})"
    return None


def trust_bound_host(app, host: str) -> None:
    """Answer to the address this server listens on (``--host 127.0.0.3``).

    Trusted hosts stop DNS rebinding: a page on a name of its own, rebound to this
    address, sends that name as its Host. The address itself is no such name.
    A wildcard (0.0.0.0, ::) is no address to answer to: FLOWLAB_PUBLIC_URL names it.
    """
    hosts = app.config.get("TRUSTED_HOSTS")
    name = host.strip("[]")
    if hosts is not None and name not in ("", "0.0.0.0", "::") and name not in hosts:
        hosts.append(name)


def settle() -> None:
    """Turn the garbage collector back on, once start-up has made its ~160,000
    lasting objects with it off (collections during start-up took about a tenth
    of it and found next to nothing to free). Those objects are frozen first: no
    later collection walks them or writes to them, in this process or in the
    forked workers (copy-on-write). The few cycles that were already garbage
    (about 1,400 objects) are kept, once."""
    gc.freeze()
    gc.enable()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve OAuth Flow Lab.", epilog=EPILOG)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument(
        "--workers", type=int, default=None,
        help=f"processes (default: one per core, at most 4, so {default_workers()} "
             "here; 1 for --sandbox-only)")
    parser.add_argument(
        "--threads", type=int, default=None,
        help="threads per process (default: 16 with one process, 8 with several)")
    parser.add_argument("--access-log", action="store_true",
                        help="log each request with its worker's process id "
                             "(several workers only)")
    parser.add_argument(
        "--sandbox-only",
        action="store_true",
        help="serve only the sandbox provider (a second origin for demos)",
    )
    args = parser.parse_args(argv)
    workers = args.workers or (1 if args.sandbox_only else default_workers())
    gc.disable()  # until settle(), before serving
    from flowlab.keepalive import create_server
    from flowlab.serving import alongside
    from flowlab.serving import serve_processes
    from flowlab.serving import start_backchannel

    app = create_app({"SANDBOX_ONLY": True} if args.sandbox_only else None)
    trust_bound_host(app, args.host)
    what = "sandbox provider" if args.sandbox_only else "OAuth Flow Lab"
    why_not = why_not_gunicorn() if workers > 1 else None
    if why_not:
        print(f"One process with waitress: {why_not}.", flush=True)
    if workers > 1 and not why_not:
        threads = args.threads or 8
        print(f"{what} on http://{args.host}:{args.port}/ (gunicorn, {workers} "
              f"processes of {threads} threads)", flush=True)
        settle()
        serve_processes(app, args.host, args.port, workers, threads,
                        backchannel=not args.sandbox_only, access_log=args.access_log)
        return
    if not args.sandbox_only:
        start_backchannel(app)
        for server in alongside(app):  # the attack labs' attacker, on 127.0.0.2
            server.start(app)
    print(f"{what} on http://{args.host}:{args.port}/", flush=True)
    # waitress accepts 100 connections by default; a room of 300 opens more at once.
    logging.basicConfig()  # its warnings shown as waitress.serve shows them
    settle()
    create_server(app, host=args.host, port=args.port, threads=args.threads or 16,
                  connection_limit=1000, ident="flowlab").run()


if __name__ == "__main__":
    main()
