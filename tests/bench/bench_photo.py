"""Photo pipeline benchmark: analysis cost, preview rate under analysis, capture-to-verified-JPEG.

Source: a 30 fps MJPG video written from the simulated camera (a real scikit-image portrait on a
plain backdrop, with sway and sensor noise), at 1280×720 and at 1920×1080, read through
``VideoFileSource`` paced like a camera. Baseline, measured in the same run on the same source: a bare
read-and-display loop (decode the frame, convert it to RGB as the preview widget would, nothing else).

Figures:
  * analysis ms/frame: ``quality.analyze`` on one frame as the analysis thread runs it (on the copy
    downscaled to at most 1280 px), against the baseline's ms/frame;
  * preview rate: frames displayed / frames the source produced at its nominal 30 fps, with the
    capture session's analysis running at 5 Hz, beside the same figure for the bare loop (aim >= 0.95);
  * capture-to-verified-JPEG: from the auto-capture decision (full frame + its live analysis) to
    verified bytes: crop, size-targeted encode, byte verification (aim <= 150 ms); also shown with a
    fresh full-resolution analysis in front (``make_photo`` on a bare frame).

Run: ``.venv/bin/python -m tests.bench.bench_photo [--seconds 6]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import cv2

from station.camera.capture import CaptureThread
from station.camera.photo import make_photo
from station.camera.profiles import load_profile
from station.camera.quality import analyze, default_detector
from station.camera.session import CaptureSession
from station.camera.simulated import SimulatedCamera
from station.camera.sources import VideoFileSource

FPS = 30.0


def write_source(path: Path, size: tuple[int, int], seconds: float) -> None:
    camera = SimulatedCamera(size=size, realtime=False)
    camera.open()
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, size)
    for _ in range(int(FPS * seconds)):
        writer.write(camera.read())
    writer.release()
    camera.close()


def display(frame) -> None:
    """What the preview does with a frame besides painting: convert to RGB for the QImage."""
    cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


def bare_loop_ms(path: Path) -> float:
    """Baseline ms/frame: read + display as fast as possible."""
    cap = cv2.VideoCapture(str(path))
    times = []
    while True:
        start = time.perf_counter()
        ok, frame = cap.read()
        if not ok:
            break
        display(frame)
        times.append(time.perf_counter() - start)
    cap.release()
    return statistics.median(times) * 1000


def preview_ratio(path: Path, seconds: float, with_analysis: bool) -> tuple[float, float, int]:
    """(displayed / produced at 30 fps, frames read per second, analyses) over ``seconds``."""
    source = VideoFileSource(path, loop=True, realtime=True)
    if with_analysis:
        runner = CaptureSession(source, "moe-480", analysis_interval=0.2, auto=False)
        thread = runner._thread  # the session's capture thread, for its counters
    else:
        runner = thread = CaptureThread(source)
    displayed = 0
    stop = threading.Event()

    def preview() -> None:
        nonlocal displayed
        last = -1
        while not stop.is_set():
            frame = thread.wait_for_frame(last, timeout=0.5)
            if frame is None:
                continue
            last = frame.index
            display(frame.image)
            displayed += 1

    runner.start()
    while thread.stats.read < 3:
        time.sleep(0.01)
    viewer = threading.Thread(target=preview, name="preview")
    start_read, start_displayed, started = thread.stats.read, displayed, time.monotonic()
    viewer.start()
    time.sleep(seconds)
    stats = thread.stats
    elapsed = time.monotonic() - started
    shown = displayed - start_displayed
    stop.set()
    viewer.join(2)
    runner.stop()
    produced = max(1.0, FPS * elapsed)  # what a 30 fps camera delivers in that time
    return shown / produced, (stats.read - start_read) / elapsed, stats.analysed


def analysis_ms(frame, repeats: int = 15) -> float:
    profile = load_profile("moe-480")
    detector = default_detector()
    scale = 1.0
    if frame.shape[1] > 1280:
        scale = frame.shape[1] / 1280
        frame = cv2.resize(frame, (1280, round(frame.shape[0] / scale)), interpolation=cv2.INTER_AREA)
    analyze(frame, profile, detector=detector, source_scale=scale)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        analyze(frame, profile, detector=detector, source_scale=scale)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def capture_ms(frame, profile_id: str, repeats: int = 8) -> tuple[float, float, int]:
    """(from the live analysis, with a fresh full analysis, bytes) for one frame."""
    profile = load_profile(profile_id)
    scale = max(1.0, frame.shape[1] / 1280)
    size = (round(frame.shape[1] / scale), round(frame.shape[0] / scale))
    live = analyze(cv2.resize(frame, size, interpolation=cv2.INTER_AREA), profile, source_scale=scale)
    make_photo(frame, profile, report=live)
    reuse, fresh, nbytes = [], [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        photo = make_photo(frame, profile, report=live)
        reuse.append(time.perf_counter() - start)
        start = time.perf_counter()
        make_photo(frame, profile)
        fresh.append(time.perf_counter() - start)
        nbytes = photo.size
    return statistics.median(reuse) * 1000, statistics.median(fresh) * 1000, nbytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="preview measurement per case")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-photo-") as tmp:
        for size in ((1280, 720), (1920, 1080)):
            path = Path(tmp) / f"desk_{size[0]}x{size[1]}.avi"
            write_source(path, size, seconds=4.0)
            cap = cv2.VideoCapture(str(path))
            _, frame = cap.read()
            cap.release()
            label = f"{size[0]}x{size[1]}"
            base = bare_loop_ms(path)
            ana = analysis_ms(frame)
            print(f"[{label}] baseline bare read+display        {base:7.2f} ms/frame")
            print(
                f"[{label}] analysis per frame                 {ana:7.2f} ms/frame   = {ana / base:6.1f}x baseline"
            )
            ratio_base, fps_base, _ = preview_ratio(path, args.seconds, with_analysis=False)
            ratio, fps, analysed = preview_ratio(path, args.seconds, with_analysis=True)
            print(
                f"[{label}] preview, bare loop                 {ratio_base:7.3f} displayed/30fps-source "
                f"(source read at {fps_base:4.1f} fps)"
            )
            print(
                f"[{label}] preview, analysis running at 5 Hz  {ratio:7.3f} displayed/30fps-source "
                f"(source read at {fps:4.1f} fps, {analysed} analyses)   = {ratio / ratio_base:5.3f} of baseline"
                "   aim >= 0.95"
            )
            for profile_id in ("moe-480", "ga461-358"):
                reuse_ms, fresh_ms, nbytes = capture_ms(frame, profile_id)
                print(
                    f"[{label}] capture-to-verified-JPEG {profile_id:<9} {reuse_ms:7.2f} ms ({nbytes} B)   "
                    f"= {reuse_ms / base:6.1f}x baseline   aim <= 150 ms;  with fresh full analysis {fresh_ms:7.2f} ms"
                )


if __name__ == "__main__":
    main()
