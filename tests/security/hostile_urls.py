"""Image URLs that must never be fetched: the recording server's own address written
every hostile way, and the cloud metadata address."""

from __future__ import annotations

from tests.support.image_server import ImageServer

METADATA = "http://169.254.169.254/latest/meta-data/"


def hostile(server: ImageServer) -> dict[str, tuple[str, str]]:
    """name -> (URL, words of the refusal)."""
    port = server.port
    return {
        "ip": (f"http://127.0.0.1:{port}/ip.png", "127.0.0.1 is a loopback"),
        "name": (
            f"http://localhost:{port}/name.png",
            "localhost (127.0.0.1) is a loopback",
        ),
        "metadata": (METADATA, "169.254.169.254 is a link-local"),
        "ipv6": (f"http://[::1]:{port}/v6.png", "::1 is a loopback"),
        "unspecified": (f"http://0.0.0.0:{port}/any.png", "0.0.0.0 is an unspecified"),
        "decimal": (
            f"http://2130706433:{port}/decimal.png",
            "2130706433 (127.0.0.1) is a loopback",
        ),
        "mapped": (
            f"http://[::ffff:127.0.0.1]:{port}/mapped.png",
            "is a loopback",
        ),
    }
