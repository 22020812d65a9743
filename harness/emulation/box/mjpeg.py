"""Cameras as IP cameras give them: MJPEG over HTTP (``multipart/x-mixed-replace``), one
stream per camera at ``http://127.0.0.1:PORT/<camera>.mjpg``, opened by cv2.VideoCapture.

A frame is drawn when it is sent, at the box's clock, so what a client reads is the twin as
it stands then. The stream is paced (``fps``, wall) and the socket's send buffer kept small.
A client that reads only when it wants a frame still gets old ones: the stream waits in the
sockets' buffers, then in a send blocked on a frame drawn long before (measured: frames 1 to
4 s old). The rig's CaptureSource therefore reads a stream as it arrives, as it must for a
real IP camera too; ``fps`` bounds how old the newest frame is (1/fps wall seconds).
"""

from __future__ import annotations

import contextlib
import http.server
import socket
import threading
import time
from collections.abc import Callable, Mapping

import cv2

from harness.protocols import Frame

BOUNDARY = "onshi-rig-frame"


class MjpegServer:
    """Serves each named frame source as ``/<name>.mjpg`` on 127.0.0.1."""

    def __init__(self, sources: Mapping[str, Callable[[], Frame]], fps: float = 8.0,
                 quality: int = 85) -> None:
        self.sources = dict(sources)
        self.fps = fps
        self.quality = quality
        #: One camera draws one frame at a time (two clients share its renderer).
        self._locks = {name: threading.Lock() for name in self.sources}
        self.frames_sent = 0
        self._stop = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass  # the box prints what it serves once; no line per request

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                name = self.path.lstrip("/").removesuffix(".mjpg")
                if not self.path.endswith(".mjpg") or name not in server.sources:
                    self.send_error(404, f"no camera {name!r} (cameras: "
                                         f"{', '.join(server.sources)})")
                    return
                server._stream(self, name)

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True,
                                        name="mjpeg")
        self._thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}.mjpg"

    def _stream(self, handler: http.server.BaseHTTPRequestHandler, name: str) -> None:
        # A small send buffer: a frame waits in the kernel only while the client reads.
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32 * 1024)
        handler.send_response(200)
        handler.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        handler.send_header("Cache-Control", "no-cache")
        handler.end_headers()
        period = 1.0 / self.fps
        due = time.monotonic()
        with contextlib.suppress(OSError):  # the client went away
            while not self._stop.is_set():
                with self._locks[name]:
                    frame = self.sources[name]()
                ok, jpeg = cv2.imencode(".jpg", frame.image,
                                        [cv2.IMWRITE_JPEG_QUALITY, self.quality])
                if not ok:
                    return
                data = jpeg.tobytes()
                handler.wfile.write(
                    f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n".encode() + data + b"\r\n")
                handler.wfile.flush()
                self.frames_sent += 1
                due = max(due + period, time.monotonic())
                self._stop.wait(max(0.0, due - time.monotonic()))

    def close(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
