"""H.264 MP4 writing and reading with PyAV (libx264 works offline; OpenCV's writer only has mp4v).

Frames are RGB uint8 arrays of one fixed, even size. Colour conversion to YUV 4:2:0 is done with
OpenCV (faster than swscale for this path) straight into the planes of one reused PyAV frame (x264
copies its input on ``encode``), and the file is written to a temp name and renamed, so a reader never
sees half a video.

Rate control is a constant quantiser by default: CRF makes x264 build and analyse a half-resolution copy
of every frame to estimate its complexity, a fifth to a quarter of the encoding time at ``ultrafast``, and buys
little for short clips of synthetic scenes (QP 20 decodes to the same PSNR as CRF 23 on replay frames,
in smaller files).
"""
from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from embodied.atomic import AtomicFile, write_atomic

DEFAULT_QP = 20


class VideoWriter:
    """``with VideoWriter(path, fps=10) as w: w.write(frame)`` writes an H.264 MP4 browsers can play."""

    def __init__(self, path: str | os.PathLike, fps: int = 10, crf: int | None = None, preset: str = "veryfast",
                 threads: int = 1, qp: int | None = None):
        """``qp``: constant quantiser (default 20); ``crf``: constant rate factor instead. Both 0 (lossless)
        to 51 (worst), lower is better."""
        if crf is not None and qp is not None:
            raise ValueError(f"give crf or qp, not both (crf={crf}, qp={qp})")
        mode, level = ("crf", crf) if crf is not None else ("qp", DEFAULT_QP if qp is None else qp)
        if not isinstance(level, int) or isinstance(level, bool) or not 0 <= level <= 51:
            raise ValueError(f"{mode}={level!r}: expected an integer in [0, 51]")
        self.path = Path(path)
        self._file = AtomicFile(self.path)  # keeps the .mp4 suffix, from which av picks the container
        self._container = av.open(str(self._file.tmp), mode="w", format="mp4")
        self._stream = self._container.add_stream("libx264", rate=Fraction(fps))
        self._stream.pix_fmt = "yuv420p"
        self._stream.options = {mode: str(level), "preset": preset, "threads": str(threads),
                                "movflags": "+faststart"}
        self._stream.codec_context.thread_count = threads
        self._size: tuple[int, int] | None = None
        self._frame: av.VideoFrame | None = None
        self._planes: list[np.ndarray] = []
        self._yuv: np.ndarray | None = None
        self.frames = 0

    def write(self, frame: np.ndarray) -> None:
        h, w = frame.shape[:2]
        if self._size is None:
            if h % 2 or w % 2:
                raise ValueError(f"H.264 with 4:2:0 needs even frame sizes, got {w}x{h}")
            self._size = (h, w)
            self._stream.width, self._stream.height = w, h
            self._frame = av.VideoFrame(w, h, "yuv420p")
            self._planes = [np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, :p.width]
                            for p in self._frame.planes]
            self._yuv = np.empty((h * 3 // 2, w), np.uint8)
        elif (h, w) != self._size:
            raise ValueError(f"frame {self.frames} is {w}x{h}, the video is {self._size[1]}x{self._size[0]}")
        yuv = cv2.cvtColor(np.ascontiguousarray(frame, np.uint8), cv2.COLOR_RGB2YUV_I420, dst=self._yuv)
        flat, n = yuv.reshape(-1), h * w  # I420: Y (h x w), then U and V (h/2 x w/2 each), contiguous
        self._planes[0][:] = yuv[:h]
        self._planes[1][:] = flat[n:n + n // 4].reshape(h // 2, w // 2)
        self._planes[2][:] = flat[n + n // 4:].reshape(h // 2, w // 2)
        self._frame.pts = self.frames
        self._container.mux(self._stream.encode(self._frame))
        self.frames += 1

    def close(self) -> Path:
        """Flush the encoder and move the finished file into place."""
        if self._container is None:
            return self.path
        try:
            if self.frames == 0:
                raise ValueError(f"{self.path}: no frames written")
            self._container.mux(self._stream.encode(None))
            self._container.close()
            self._container = None
            self._file.commit()
        finally:
            if self._container is not None:
                self._container.close()
                self._container = None
            self._file.discard()
        return self.path

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:  # do not leave a broken video behind
            if self._container is not None:
                self._container.close()
                self._container = None
            self._file.discard()


def read_frames(path: str | os.PathLike) -> tuple[list[np.ndarray], dict]:
    """Decode every frame of a video as RGB uint8, with stream facts (codec, width, height, fps)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        info = {"codec": stream.codec_context.name, "width": stream.width, "height": stream.height,
                "fps": float(stream.average_rate or 0)}
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    return frames, info


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB between two uint8 images (inf when identical)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0 ** 2 / mse)


# No row filter, fastest deflate: on the flat-coloured replay frames this writes the poster in ~60% of
# OpenCV's default time, into a file ~40% of the size.
_PNG_FAST = [cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_NONE, cv2.IMWRITE_PNG_COMPRESSION, 1]


def write_png(path: str | os.PathLike, frame: np.ndarray) -> Path:
    """An RGB frame as a PNG, written atomically."""
    path = Path(path)
    ok, data = cv2.imencode(".png", np.ascontiguousarray(frame[..., ::-1]), _PNG_FAST)
    if not ok:
        raise ValueError(f"{path}: PNG encoding failed")
    return write_atomic(path, data.tobytes())
