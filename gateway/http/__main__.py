"""``python -m gateway.http``: serve the gateway on ``KZGATE_HOST``:``KZGATE_PORT`` (what ``kzgate
serve gateway`` becomes).

A module of its own, not the CLI's: with several workers uvicorn starts each by *spawning* a new
interpreter that imports the parent's main module, so the main module must be the gateway's and
nothing more — through the CLI each worker also imported every command and the simulators the
demos use (a third more start-up CPU per worker, on every restart too).
"""

from __future__ import annotations

import uvicorn

from connectors.config import Settings


def main() -> None:
    settings = Settings()
    workers = settings.worker_count
    if workers == 1:
        from gateway.http.app import create_app

        uvicorn.run(
            create_app(settings), host=settings.host, port=settings.port, log_level="warning"
        )
        return
    # Several processes on one socket: uvicorn's supervisor starts them, each builds its app from
    # the same environment, and a worker that dies is replaced.
    from gateway.observability.metrics import share_between_workers

    share_between_workers(settings.var_dir)  # so that any worker's /metrics counts them all
    uvicorn.run(
        "gateway.http.app:create_app",
        factory=True,
        workers=workers,
        timeout_worker_healthcheck=settings.worker_healthcheck_seconds,
        host=settings.host,
        port=settings.port,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
