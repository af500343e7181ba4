"""A network camera (MJPEG over HTTP, served on 127.0.0.1) read by StreamSource, with reconnection."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np

from station.camera.capture import CaptureThread
from station.camera.sources import SourceState, StreamSource
from tests.camera.test_capture import wait_until


class MjpegCamera:
    """An IP-camera stand-in: multipart JPEG frames at ~50 fps until taken down."""

    def __init__(self, port: int = 0) -> None:
        self.up = threading.Event()
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                index = 0
                while camera.up.is_set():
                    _, jpeg = cv2.imencode(".jpg", np.full((120, 160, 3), index % 250, np.uint8))
                    part = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % jpeg.size
                    try:
                        self.wfile.write(part + jpeg.tobytes() + b"\r\n")
                    except OSError:
                        return
                    index += 1
                    time.sleep(0.02)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.up.set()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def down(self) -> None:
        self.up.clear()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def test_network_stream_is_read_and_reconnected():
    camera = MjpegCamera()
    url = f"http://127.0.0.1:{camera.port}/stream.mjpg"
    states = []
    thread = CaptureThread(StreamSource(url, timeout_ms=2000), reconnect_interval=0.1, on_state=states.append)
    thread.start()
    try:
        assert wait_until(lambda: thread.stats.read > 10, timeout=10)
        frame = thread.latest_frame()
        assert frame.image.shape == (120, 160, 3)
        camera.down()  # the IP camera loses power
        assert wait_until(lambda: thread.state == SourceState.LOST, timeout=10)
        camera = MjpegCamera(camera.port)  # and comes back on the same address
        assert wait_until(lambda: thread.state == SourceState.OPEN, timeout=10)
        read_before = thread.stats.read
        assert wait_until(lambda: thread.stats.read > read_before + 10, timeout=10)
        assert thread.stats.reconnects >= 1
        assert states[:3] == [SourceState.OPEN, SourceState.LOST, SourceState.OPEN]
    finally:
        assert thread.stop(timeout=5.0)
        camera.down()
