"""``air-emulator``: run the emulator until SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

import uvicorn

from .config import DEFAULT_CHUNK_SIZE, ConfigError, Settings, parse_org_specs


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="air-emulator",
        description="Local emulator of the NVIDIA Air v3 images API (control plane + part-upload data plane).",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="API port; 0 picks a free port (default 8000)")
    p.add_argument("--data-dir", required=True, help="directory for the SQLite database and uploaded parts")
    p.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE,
                   help="part size handed out by start-upload, >= 5 MiB (default 100000000)")
    p.add_argument("--validation-delay", type=float, default=1.0,
                   help="seconds an image stays VALIDATING before the checksum is verified (default 1)")
    p.add_argument("--transition-delay", type=float, default=0.5,
                   help="seconds PUBLISHING / UNPUBLISHING / COPYING_FROM_IMAGE_SHARE last (default 0.5)")
    p.add_argument("--url-ttl", type=float, default=3600.0,
                   help="lifetime of presigned part URLs in seconds (default 3600)")
    p.add_argument("--org", action="append", metavar="NAME=TOKEN[:SCOPES]",
                   help="add an API token for org NAME; SCOPES is a comma list of image_read, image_write, "
                        "image_publish, image_sharing, image_claiming, 'all' (every image scope, the default) and "
                        "the reviewer scopes admin and sre. Repeatable. Without --org: demo-org/nvapi-demo-token, "
                        "partner-org/nvapi-partner-token, the read-only demo-org/nvapi-readonly-token, the "
                        "uploader demo-org/nvapi-uploader-token (read, write) and the reviewer "
                        "air-admin/nvapi-admin-token (admin)")
    p.add_argument("--storage-port", type=int, default=0,
                   help="port of the part-upload data plane (default: the previous run's, else a free one)")
    p.add_argument("--storage-connection-rate", type=float, metavar="MBPS",
                   help="WAN model: MB/s (10^6 bytes/s) each data-plane connection may carry (default: unlimited)")
    p.add_argument("--storage-link-rate", type=float, metavar="MBPS",
                   help="WAN model: MB/s all data-plane connections together may carry (default: unlimited)")
    p.add_argument("--storage-latency", type=float, default=0.0, metavar="MS",
                   help="WAN model: milliseconds added to each part request and to each answer (default 0)")
    p.add_argument("--s3-endpoint", metavar="URL",
                   help="use this S3 endpoint (e.g. a moto server) for multipart uploads instead of local files")
    p.add_argument("--s3-bucket", default="air-emulator", help="bucket for --s3-endpoint (default air-emulator)")
    p.add_argument("--log-level", default="warning", choices=("debug", "info", "warning", "error"))
    return p


class _Server(uvicorn.Server):
    """Announces the real address once the socket is bound."""

    def __init__(self, config, host: str) -> None:
        super().__init__(config)
        self._host = host

    def handle_exit(self, sig, frame) -> None:
        # SIGTERM is how the emulator is meant to stop: shut down gracefully and exit 0
        # (uvicorn would re-raise the signal afterwards, making the exit status 143).
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        else:
            self.should_exit = True

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets=sockets)
        if self.should_exit:
            return
        port = self.servers[0].sockets[0].getsockname()[1]
        host = f"[{self._host}]" if ":" in self._host else self._host
        print(f"air-emulator listening on http://{host}:{port}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings(
            host=args.host, port=args.port, data_dir=args.data_dir, chunk_size=args.chunk_size,
            validation_delay=args.validation_delay, transition_delay=args.transition_delay, url_ttl=args.url_ttl,
            storage_port=args.storage_port, s3_endpoint=args.s3_endpoint, s3_bucket=args.s3_bucket,
            storage_connection_rate=args.storage_connection_rate, storage_link_rate=args.storage_link_rate,
            storage_latency=args.storage_latency, tokens=parse_org_specs(args.org),
        )
        settings.validate()
    except ConfigError as exc:
        print(f"air-emulator: error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=args.log_level.upper(), format="air-emulator %(levelname)s %(name)s: %(message)s")
    from .api import create_app

    app = create_app(settings)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False,
                            lifespan="on", timeout_graceful_shutdown=5)
    server = _Server(config, args.host)
    server.run()
    return 0 if server.started else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
